"""Training inputs besides labels CSVs: Label Studio exports and raw-layer windows."""

import json

import numpy as np
import pytest
from gesture import units

from training.labelstudio import events_for, parse_export, read_export
from training.params import load_params
from training.pipeline import load_streams
from training.recordings import Event, RecordingError, write_recording
from training.synthetic import generate_recording


def ls_task(csv_url, results, cancelled=False):
    return {
        "id": 1,
        "data": {"csv": csv_url},
        "annotations": [{"was_cancelled": cancelled, "result": results}],
    }


def ts_label(start, end, name):
    return {
        "from_name": "label",
        "to_name": "ts",
        "type": "timeserieslabels",
        "value": {"start": start, "end": end, "instant": False, "timeserieslabels": [name]},
    }


def test_label_studio_export_gives_gesture_events():
    tasks = [
        ls_task("/data/upload/3/ab12cd34-rec1.csv", [ts_label(2500, 1900.4, "x"),
                                                     ts_label(100, 900, "circle"),
                                                     ts_label(4000, 5000, "handling")]),
        ls_task("/data/upload/3/ff00-rec2.csv", [ts_label(1, 2, "y")], cancelled=True),
    ]  # fmt: skip
    exported = parse_export(tasks)
    assert exported == {"ab12cd34-rec1.csv": [Event(100, 900, "circle"), Event(1900, 2500, "x")]}
    assert events_for("folder/rec1.csv", exported) == exported["ab12cd34-rec1.csv"]
    assert events_for("rec2.csv", exported) is None
    by_index = parse_export([ls_task("rec3.csv", [ts_label(10, 50, "y")])], time_unit="index")
    assert by_index["rec3.csv"] == [Event(100, 500, "y")]


def test_label_studio_bad_values_are_clear_errors(tmp_path):
    with pytest.raises(RecordingError, match="start/end"):
        parse_export([ls_task("a.csv", [ts_label("soon", 5, "x")])])
    bad = tmp_path / "export.json"
    bad.write_text("{not json")
    with pytest.raises(RecordingError, match="not JSON"):
        read_export(bad)
    with pytest.raises(ValueError):
        parse_export([], time_unit="seconds")


def test_training_data_from_label_studio_export(tmp_path):
    samples, events = generate_recording(4, 70)
    write_recording(tmp_path / "take1.csv", samples)  # no labels CSV beside it
    tasks = [ls_task("/data/upload/1/9f9f-take1.csv",
                     [ts_label(e.start_ms, e.end_ms, e.gesture) for e in events])]  # fmt: skip
    (tmp_path / "project-1-export.json").write_text(json.dumps(tasks))
    streams, source = load_streams(tmp_path, load_params())
    assert source["recordings"] == ["take1"]
    assert sorted(e for s in streams for e in s.events) != []
    assert sum(len(s.events) for s in streams) == len(events)


def raw_object(label, rows, rate=100, signals=units.SIGNALS, t_ms=1_700_000_000_000):
    return {
        "device_id": "dev-1",
        "t_ms": t_ms,
        "rate_hz": rate,
        "units": "raw",
        "signals": list(signals),
        "values": rows,
        "label": label,
        "reason": "manual",
    }


def test_raw_layer_windows_become_streams(tmp_path):
    samples, events = generate_recording(8, 20, gestures=("circle",), handling=False)
    e = events[0]
    counts = [
        list(units.si_to_raw(*r[:6])) for r in samples[e.start_ms // 10 - 50 : e.end_ms // 10 + 50]
    ]
    day = tmp_path / "raw" / "samples" / "device=dev-1" / "date=2023-11-14"
    day.mkdir(parents=True)
    objects = {
        "a": raw_object("circle", counts),
        "b": raw_object("idle", counts[:60], t_ms=1_700_000_001_000),
        "c": raw_object(None, counts),  # unlabelled: skipped
        "d": raw_object("x", [r[:3] for r in counts], signals=units.SIGNALS[:3]),  # skipped
    }
    for name, obj in objects.items():
        (day / f"{name}.json").write_text(json.dumps(obj))
    streams, source = load_streams(tmp_path, load_params())
    assert source["raw_windows"] == {"used": 2, "skipped": 2}
    circle = next(s for s in streams if s.events)
    assert circle.events[0].gesture == "circle"
    assert abs(circle.events[0].start_ms - 500) <= 100  # the motion starts 50 samples in
    np.testing.assert_allclose(circle.samples[0, 2], counts[0][2] * units.ACC_SI_PER_LSB)


def test_folder_without_training_data_is_rejected(tmp_path):
    (tmp_path / "notes.txt").write_text("nothing here")
    with pytest.raises(FileNotFoundError, match="no labelled recordings"):
        load_streams(tmp_path, load_params())


def test_gesture_names_are_data_not_a_fixed_list():
    from training.recordings import vocabulary

    assert Event(0, 10, "shake").gesture == "shake"
    for bad in ("idle", "handling", "Shake", "9x", "a" * 33, ""):
        with pytest.raises(RecordingError):
            Event(0, 10, bad)
    assert vocabulary([Event(0, 1, "y"), Event(2, 3, "shake")]) == ("idle", "shake", "y")
