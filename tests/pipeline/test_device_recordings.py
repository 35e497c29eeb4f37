"""Device windows become recordings the training package reads, with their labels."""

from __future__ import annotations

import json

import pytest

from pipeline.device_recordings import windows_to_recordings
from training.recordings import SIGNALS, read_recording
from training.streams import labelled_recordings

DAY0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def window(device="dev-1", t_ms=DAY0, label="x", **over) -> dict:
    values = [[16384, 0, 0, 0, 0, 131]] * 100  # raw counts: 1 g on x, 1 deg/s on gyro z
    w = {"device_id": device, "t_ms": t_ms, "rate_hz": 100, "units": "raw"}
    return {**w, "signals": list(SIGNALS), "values": values, "label": label, **over}


@pytest.fixture
def write(tmp_path):
    def run(*windows) -> tuple[dict, list]:
        src = tmp_path / "windows.jsonl"
        src.write_text("".join(json.dumps(w) + "\n" for w in windows))
        out = tmp_path / "recordings"
        out.mkdir(exist_ok=True)
        return windows_to_recordings(src, out), labelled_recordings(out)

    return run


def test_labelled_windows_of_a_device_day_become_one_recording_with_events(write):
    used, recordings = write(
        window(t_ms=DAY0 + 5000, label="idle"),
        window(t_ms=DAY0 + 1000, label="circle"),
        window(t_ms=DAY0 + 9000, label="y"),
    )
    assert used == {"used": 3, "recordings": 1, "skipped": {}}
    ((path, events),) = recordings
    assert path.name == "device-dev-1-2026-01-01.csv"
    assert [(e.start_ms, e.end_ms, e.gesture) for e in events] == [
        (0, 990, "circle"),  # earliest window first; the idle window in between has no event
        (2000, 2990, "y"),
    ]
    samples = read_recording(path)
    assert samples.shape == (300, 7)
    assert samples[0, 0] == pytest.approx(9.80665, abs=1e-3) and samples[0, 5] == pytest.approx(1)


def test_windows_that_cannot_be_training_data_are_skipped_with_the_reason(write):
    used, recordings = write(
        window(label=None),
        window(rate_hz=50),
        window(signals=list(SIGNALS[:5]), values=[[0] * 5] * 100),
        window(device="dev-2", units="si", values=[[0, 0, 9.8, 0, 0, 0]] * 100),
    )
    assert used["skipped"] == {"not 100 Hz": 1, "not all six signals": 1, "unlabelled": 1}
    assert [p.name for p, _ in recordings] == ["device-dev-2-2026-01-01.csv"]
    assert read_recording(recordings[0][0])[0, 2] == pytest.approx(9.8, abs=1e-3)
