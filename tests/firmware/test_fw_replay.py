"""Replaying a recording through the firmware under micropython gives the events the same
detection chain gives on CPython."""

import json

import pytest
from fw_harness import run_firmware, write_rules_model, write_synthetic_recording
from gesture import units
from gesture.detector import Detector


def cpython_events(recording, model_dir):
    """The detection chain on CPython over the recording's counts (what `detect` does)."""
    from training.recordings import read_recording

    manifest = json.loads((model_dir / "manifest.json").read_text())
    namespace = {}
    exec((model_dir / "model.py").read_text(), namespace)
    det = Detector(manifest, namespace["score"])
    events = []
    for row in read_recording(recording):
        ev = det.push(*units.si_to_raw(*row[:6]))
        if ev is not None:
            events.append({"t_ms": ev[0] * 10, "gesture": ev[1], "score": ev[2]})
    return events


@pytest.mark.parametrize("model_file", ["model.mpy", "model.py"])
def test_replay_matches_the_cpython_chain(tmp_path, model_file):
    reference = write_rules_model(tmp_path / "reference")
    model_dir = write_rules_model(tmp_path / "model")
    other = "model.py" if model_file == "model.mpy" else "model.mpy"
    (model_dir / other).unlink()  # the device has only one of them
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    expected = cpython_events(recording, reference)
    config = {"mode": "replay", "recording": str(recording), "model_dir": str(model_dir)}
    result = run_firmware(config, tmp_path)
    assert result.returncode == 0, result.stderr
    got = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(expected) >= 3, "the recording should produce events"
    assert [(e["t_ms"], e["gesture"]) for e in got] == [(e["t_ms"], e["gesture"]) for e in expected]
    assert [e["score"] for e in got] == pytest.approx([e["score"] for e in expected], abs=1e-12)
