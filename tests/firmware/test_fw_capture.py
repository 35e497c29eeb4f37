"""Capture mode: the raw windows the device uploads are exactly the recording's counts around
each detection (and near-miss), at the device's timestamps."""

from fw_fake_api import FakeApi
from fw_harness import device_config, queued, run_firmware, write_synthetic_recording
from gesture import units

from training.recordings import read_recording

T0 = 1_795_000_000_000


def test_captured_windows_hold_the_recorded_counts_around_detections(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    counts = [units.si_to_raw(*row[:6]) for row in read_recording(recording)]
    capture = {"enabled": True, "near_miss": 0.4, "pre_ms": 1000, "post_ms": 500}
    config = device_config(tmp_path, "", recording, t0_ms=T0, capture=capture)
    config["samples_capacity"] = 10
    with FakeApi() as api:
        config["api_url"] = api.url
        result = run_firmware(config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    detections = [t for _, _, t in queued(result.stdout)]
    windows = [w for w in api.samples if w["reason"] == "detection"]
    assert len(windows) == len(detections) >= 3
    for window, t_ms in zip(windows, detections, strict=True):
        start = (window["t_ms"] - T0) // 10
        assert start == (t_ms - T0) // 10 - 100  # pre_ms before the detection
        assert len(window["values"]) == 150
        assert [tuple(row) for row in window["values"]] == counts[start : start + 150]
