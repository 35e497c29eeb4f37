"""pipeline.training_backend: the seam to training/ (the training itself is tested there)."""

from __future__ import annotations

import numpy as np
import pytest

from functions.storage_layout import raw_sample_key
from pipeline.jobs.collect import jsonl
from pipeline.training_backend import GestureTraining, load_backend
from tests.pipeline.conftest import push_along_x
from training.raw_layer import WINDOWS_FILE, raw_window_streams, window_row
from training.recordings import SIGNALS, labels_path_for, read_labels, read_recording


def events_in(path) -> int:
    return len(read_labels(labels_path_for(path)))


def parsed(**training):
    return GestureTraining().parse(training)


def test_evaluation_streams_are_fixed_and_half_of_them_dense(tmp_path):
    streams = GestureTraining().evaluation_streams(tmp_path / "a", parsed(evaluation_recordings=4))
    again = GestureTraining().evaluation_streams(tmp_path / "b", parsed(evaluation_recordings=4))
    assert [p.read_bytes() for p in streams] == [p.read_bytes() for p in again]
    spaced, dense, held = streams[:2], streams[2:4], streams[4:]
    assert [p.name for p in streams] == [
        "synthetic-9000.csv", "synthetic-9001.csv", "synthetic-9100.csv", "synthetic-9101.csv",
        *(f"held-synthetic-{s}.csv" for s in (9000, 9001, 9100, 9101)),
    ]  # fmt: skip
    assert min(map(events_in, dense)) > max(map(events_in, spaced))  # same minute, more gestures
    for original, copy in zip(spaced + dense, held, strict=True):  # same gestures, held off
        assert read_labels(labels_path_for(original)) == read_labels(labels_path_for(copy))
        a, b = read_recording(original)[:, :3], read_recording(copy)[:, :3]
        tilt = np.degrees(np.arccos(np.clip(
            (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1), -1, 1
        )))  # fmt: skip
        assert 8 <= np.median(tilt) <= 32


def test_evaluation_streams_hold_every_gesture_of_both_models(tmp_path):
    streams = GestureTraining().evaluation_streams(
        tmp_path, parsed(evaluation_recordings=2, gestures=["circle", "shake", "tap", "x", "y"])
    )
    found = {e.gesture for p in streams for e in read_labels(labels_path_for(p))}
    assert found == {"circle", "shake", "x", "y"}  # tap: no synthetic shape, only device data


def test_unknown_training_parameters_and_backends_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown key 'gird' in training"):
        GestureTraining().parse({"gird": "tiny"})
    with pytest.raises(ValueError, match="module:attribute"):
        load_backend("pipeline.training_backend")
    assert isinstance(load_backend("pipeline.training_backend:GestureTraining"), GestureTraining)


def moving_window(device: str, t_ms: int, label) -> dict:
    key = raw_sample_key(device, t_ms, "ab" * 32)
    window = {"t_ms": t_ms, "rate_hz": 100, "signals": list(SIGNALS), "values": push_along_x()}
    return window_row(key, device, window | {"label": label})


def test_collected_windows_are_trained_on_as_collect_wrote_them(tmp_path):
    """One format: the lines collect writes (window_row) are what training reads, no files."""
    t0 = 1_767_225_600_000
    rows = [moving_window("dev-1", t0, "x"), moving_window("dev-2", t0 + 1000, None)]
    (tmp_path / "raw").mkdir()
    (tmp_path / WINDOWS_FILE).write_bytes(jsonl(rows) + b"{not json\n[1]\n")
    streams, counts = raw_window_streams(tmp_path)
    assert counts == {"used": 1, "skipped": 1, "unreadable": 2}  # nothing dropped uncounted
    (event,) = streams[0].events
    assert event.gesture == "x" and 250 <= event.start_ms < event.end_ms <= 700
    assert streams[0].group == f"dev-1/{t0}"
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["windows.jsonl"]


def test_the_backend_trains_on_the_collected_file(tmp_path, monkeypatch):
    import training.pipeline

    seen = {}

    def fake_train(data, out, *args, **kwargs):
        seen["streams"], seen["counts"] = raw_window_streams(data)
        raise RuntimeError("stop here")

    monkeypatch.setattr(training.pipeline, "train", fake_train)
    windows = tmp_path / "windows.jsonl"
    windows.write_bytes(jsonl([moving_window("dev-1", 1_767_225_600_000, "x")]))
    with pytest.raises(RuntimeError, match="stop here"):
        GestureTraining().train(
            windows, tmp_path / "m", tmp_path / "l", parsed(recordings=1, duration_s=5)
        )
    assert seen["counts"] == {"used": 1}


def test_the_training_data_is_a_folder_of_recordings(tmp_path):
    """Spaced, dense and held-off recordings side by side: never mistaken for a clip folder."""
    from pipeline.training_backend import synthetic_set
    from training.clips import is_clip_folder
    from training.params import load_params
    from training.pipeline import load_streams

    synthetic_set(tmp_path, 3, 4, 20.0, ("circle", "x"))
    streams, source = load_streams(tmp_path, load_params())
    assert not is_clip_folder(tmp_path) and source["kind"] == "recordings"
    assert {e.gesture for s in streams for e in s.events} == {"circle", "x"}
