"""Clip folders (training/clips.py): any device's labelled clips become training streams."""

import csv
import json

import numpy as np
import pytest
from gesture import units

from gesture_stack.cli import main
from training.clips import clip_streams, is_clip_folder, read_clip, resample
from training.params import load_params
from training.pipeline import split_streams
from training.recordings import RecordingError, write_recording
from training.synthetic import generate_recording

ORDER = ("ms", "gyro_z", "gyro_y", "gyro_x", "acc_z", "acc_y", "acc_x")  # any column order


def write_clip(path, samples_100hz: np.ndarray, rate_hz: int) -> None:
    """Write 100 Hz SI samples as a clip at another rate (as another device would record)."""
    n = len(samples_100hz)
    t_src = np.arange(n) * 10.0
    t = np.arange(0, t_src[-1], 1000 / rate_hz)
    values = np.stack([np.interp(t, t_src, samples_100hz[:, k]) for k in range(6)], axis=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(ORDER)
        for ms, row in zip(t, values, strict=True):
            by_name = dict(zip(units.SIGNALS, row, strict=True)) | {"ms": ms}
            w.writerow([f"{by_name[c]:.5f}" for c in ORDER])


def clip_folder(root, seed=60, rates=(50, 100, 200), gestures=("circle", "shake", "x")):
    """Cut every synthetic gesture out with 0.6-1.2 s around it; one CSV per clip."""
    k = 0
    for r in range(4):
        samples, events = generate_recording(seed + r, 60, gestures=gestures, handling=False)
        rng = np.random.default_rng(seed + r)
        for e in events:
            a = max(e.start_ms // 10 - int(rng.uniform(60, 120)), 0)
            b = e.end_ms // 10 + int(rng.uniform(60, 120))
            write_clip(root / e.gesture / f"clip{k:03d}.csv", samples[a:b, :6], rates[k % 3])
            k += 1
    return root


def test_resample_reads_the_rate_from_ms_and_clips_to_the_sensor_ranges():
    t = np.arange(0, 2000, 5.0)  # 200 Hz
    values = np.zeros((len(t), 6))
    values[:, 0] = 5 * np.sin(2 * np.pi * t / 1000)
    values[:, 1] = 40.0  # beyond +-2 g
    values[:, 3] = -400.0  # beyond -250 dps
    out = resample(values, t)
    assert len(out) == 200  # 0..1990 ms at 10 ms
    expected = 5 * np.sin(2 * np.pi * np.arange(0, 2000, 10.0) / 1000)
    assert np.abs(out[5:-5, 0] - expected[5:-5]).max() < 0.2
    assert out[:, 1].max() <= 2 * units.G + 1e-3 and out[:, 1].min() > 19.0
    assert out[:, 3].min() >= -250.2


@pytest.mark.parametrize(
    "step_ms, match",
    [(50.0, "50-200 Hz"), (2.5, "50-200 Hz"), (None, "steady"), (-10.0, "increase")],
)
def test_clips_at_other_rates_or_unsteady_are_refused(step_ms, match):
    if step_ms is None:
        t = np.r_[np.arange(50) * 10.0, 600 + np.arange(50) * 10.0]  # 100 Hz with a gap
    else:
        t = np.arange(100) * step_ms
    with pytest.raises(RecordingError, match=match):
        resample(np.zeros((len(t), 6)), t)


def test_a_clip_without_the_columns_is_refused(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("ax,ay,az,gx,gy,gz,t\n" + "0,0,0,0,0,0,0\n" * 20)
    with pytest.raises(RecordingError, match="missing columns"):
        read_clip(path)


def test_clip_folder_without_idle_makes_negatives_and_says_so(tmp_path):
    folder = clip_folder(tmp_path / "clips")
    (tmp_path / "clips" / "shake" / "broken.csv").write_text("acc_x\n1\n")
    assert is_clip_folder(folder) and not is_clip_folder(tmp_path)
    streams, source = clip_streams(folder)
    assert set(source["clips"]) == {"circle", "shake", "x"}
    assert "shake/broken" in source["skipped"]
    assert any("No idle folder" in n for n in source["notes"])
    assert any(not s.events for s in streams)  # negatives exist
    assert all(len(s.events) <= 1 for s in streams)  # one clip, at most one gesture


def test_whole_clips_are_held_out(tmp_path):
    streams, _ = clip_streams(clip_folder(tmp_path / "clips"))
    parts = split_streams(streams, load_params())
    groups = {name: {g for s in ss for g in s.group.split("+")} for name, ss in parts.items()}
    test = groups.pop("test")
    assert test and all(not (test & other) for other in groups.values())


def test_train_on_a_clip_folder_and_detect_its_classes(tmp_path, capsys):
    folder = clip_folder(tmp_path / "clips")
    out = tmp_path / "model"
    assert main(["train", "--data", str(folder), "--out", str(out), "--grid", "tiny"]) == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["classes"] == ["idle", "circle", "shake", "x"]
    assert manifest["metrics"]["source"] == "clips"
    per_class = manifest["metrics"]["test"]["per_class"]
    assert set(per_class) <= {"circle", "shake", "x"} and per_class
    report = (out / "report.html").read_text()
    assert "No idle folder" in report and "confusion.png" in report
    capsys.readouterr()
    samples, truth = generate_recording(77, 40, gestures=("circle", "shake", "x"))
    rec = write_recording(tmp_path / "rec.csv", samples, truth)
    assert main(["detect", str(rec), "--model", str(out)]) == 0
    found = {json.loads(line)["gesture"] for line in capsys.readouterr().out.splitlines()}
    assert "shake" in found and found <= {"circle", "shake", "x"}
