import json

import numpy as np
import pytest

from gesture_stack.cli import main
from training.evaluation import Detection, score_events
from training.params import load_params
from training.pipeline import split_streams, train
from training.recordings import Event, write_recording
from training.synthetic import generate_dataset, generate_recording


def test_tiny_training_on_synthetic_finds_events(tiny_model):
    test = tiny_model.manifest.metrics["test"]
    assert test["f1"] >= 0.8
    assert tiny_model.manifest.postprocess.min_hits >= 1
    assert tiny_model.candidates and tiny_model.candidates[0]["within_budget"]


def test_detect_cli_prints_one_json_line_per_event(tiny_model, tmp_path, capsys):
    samples, truth = generate_recording(1234, 45)
    rec = write_recording(tmp_path / "rec.csv", samples, truth)
    assert main(["detect", str(rec), "--model", str(tiny_model.model_dir)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    events = [json.loads(line) for line in lines]
    assert all(set(e) == {"t_ms", "gesture", "score"} for e in events)
    assert all(e["gesture"] in ("circle", "x", "y") and 0 <= e["score"] <= 1 for e in events)
    found = [Detection(e["t_ms"], e["gesture"], e["score"]) for e in events]
    assert score_events(truth, found, 250, 45000).f1 >= 0.7


def test_detect_cli_errors_are_clear(tiny_model, tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n")
    assert main(["detect", str(bad), "--model", str(tiny_model.model_dir)]) == 2
    assert "header" in capsys.readouterr().err
    samples, _ = generate_recording(1, 5)
    rec = write_recording(tmp_path / "ok.csv", samples)
    assert main(["detect", str(rec), "--model", str(tmp_path / "nomodel")]) == 2
    assert "manifest.json" in capsys.readouterr().err


def test_train_cli_on_synthetic_writes_model_and_layers(tmp_path, capsys):
    data = tmp_path / "data"
    generate_dataset(data, seed=3, count=4, duration_s=40)
    out = tmp_path / "model"
    assert main(["train", "--data", str(data), "--out", str(out), "--grid", "tiny"]) == 0
    captured = capsys.readouterr()
    assert "train-result" in captured.out and "[1/1]" in captured.err
    assert (out / "model.mpy").exists()
    layers = tmp_path / "model-layers"
    for layer in ("01_raw", "02_intermediate", "03_primary", "06_models", "08_reporting"):
        assert (layers / layer).is_dir()
    groups = json.loads((layers / "02_intermediate" / "groups.json").read_text())
    assert {g["group"] for g in groups} >= {"synthetic-0003#0"}
    primary = sorted((layers / "03_primary" / "test").glob("*.labels.csv"))
    assert primary  # the held-out streams are recordings `detect` can read
    assert main(["train", "--data", str(tmp_path / "missing"), "--out", str(out)]) == 2


def test_train_rejects_unknown_grid_and_empty_folder(tmp_path):
    with pytest.raises(ValueError, match="unknown grid"):
        load_params().grid("nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError):
        train(tmp_path / "empty", tmp_path / "m", "tiny")


def test_splits_never_share_a_recording_chunk(tmp_path):
    from training.streams import recording_streams

    generate_dataset(tmp_path, seed=5, count=5, duration_s=70)
    params = load_params()
    parts = split_streams(recording_streams(tmp_path, params.split.chunk_s), params)
    groups = {name: {g for s in ss for g in s.group.split("+")} for name, ss in parts.items()}
    names = list(groups)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not groups[a] & groups[b]
    assert sum(len(g) for g in groups.values()) == 10  # 5 recordings x 2 chunks


def test_score_events_matching_rules():
    truth = [Event(1000, 1500, "x"), Event(5000, 5900, "circle")]
    hits = [Detection(1600, "x", 0.9), Detection(5100, "y", 0.8), Detection(9000, "x", 0.7)]
    s = score_events(truth, hits, tolerance_ms=200, duration_ms=60000)
    assert (s.tp, s.fp, s.fn, s.idle_fp) == (1, 2, 1, 1)
    assert s.confusion["circle->y"] == 1 and s.confusion["idle->x"] == 1
    dup = score_events(truth[:1], [Detection(1100, "x", 1), Detection(1200, "x", 1)], 0, 10000)
    assert (dup.tp, dup.fp) == (1, 1)
    ignored = score_events([], [Detection(3000, "x", 1)], 0, 60000, ignore=[(2900, 3100)])
    assert ignored.fp == 0 and ignored.f1 == 1.0


def test_calibration_prefers_run_length_that_removes_spikes():
    from training.calibration import ScoredStream, calibrate
    from training.streams import Stream

    n = 400
    votes = np.tile([90, 5, 3, 2], (n, 1))  # class votes, 100 = probability 1
    for i in range(40, 48):  # a real x gesture: 8 windows
        votes[i] = [5, 5, 85, 5]
    for i in (150, 260, 330):  # single-window spikes
        votes[i] = [20, 70, 5, 5]
    ends = np.arange(n) * 5 + 100
    stream = Stream("s", np.zeros((ends[-1] + 1, 6)), [Event(2600, 3000, "x")])
    grid = {"threshold": [0.5, 0.8], "min_hits": [1, 2, 3], "max_gap": [0], "refractory_s": [1.0]}
    scored = [ScoredStream(stream, ends, votes, 100)]
    params, score = calibrate(scored, ["idle", "circle", "x", "y"], grid, 50, 250)
    assert params["min_hits"] >= 2 and score.f1 == 1.0


def test_report_renders_timelines_confusion_and_size_table(tiny_model):
    folder = tiny_model.model_dir
    page = (folder / "report.html").read_text()
    for image in ("confusion.png", "timeline-0.png"):
        assert f"'{image}'" in page
        assert (folder / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(tiny_model.manifest.metrics["test"]["f1"]) in page
    assert "model.mpy bytes" in page and "µs" in page  # timed under micropython
    exported = tiny_model.manifest.files["model.mpy"].bytes
    assert "<th>mpy_bytes before refit</th>" in page  # candidates: sizes of the dev fit
    assert f"the exported model is {exported} B" in page


def test_a_second_run_on_the_same_layers_resumes_from_cached_candidates(tmp_path, monkeypatch):
    import training.pipeline as pipeline

    data = tmp_path / "data"
    generate_dataset(data, seed=6, count=4, duration_s=40)
    first = train(data, tmp_path / "model", "tiny", layers=tmp_path / "layers")
    assert list((tmp_path / "layers" / "06_models" / "oof").glob("*.pkl"))

    def no_fitting(*args, **kwargs):
        raise AssertionError("candidate fitted again")

    monkeypatch.setattr(pipeline, "fit", no_fitting)
    again = train(data, tmp_path / "model2", "tiny", layers=tmp_path / "layers")
    assert again.candidates == first.candidates
    assert again.manifest.postprocess == first.manifest.postprocess


def test_classes_come_from_the_data_and_detect_names_a_new_one(tmp_path, capsys):
    """A gesture set with a new gesture: the manifest, report and detect all carry it."""
    data = tmp_path / "data"
    gestures = ("circle", "x", "y", "shake")
    generate_dataset(data, seed=40, count=5, duration_s=60, gestures=gestures)
    params = load_params()
    result = train(data, tmp_path / "model", "tiny", params, tmp_path / "layers")
    assert result.manifest.classes == ["idle", "circle", "shake", "x", "y"]
    per_class = result.manifest.metrics["test"]["per_class"]
    assert set(per_class) <= set(gestures) and "shake" in per_class
    assert "<td>shake</td>" in (tmp_path / "model" / "report.html").read_text()
    samples, truth = generate_recording(41, 40, gestures=("shake",))
    rec = write_recording(tmp_path / "rec.csv", samples, truth)
    assert main(["detect", str(rec), "--model", str(tmp_path / "model")]) == 0
    found = [json.loads(line)["gesture"] for line in capsys.readouterr().out.splitlines()]
    assert found.count("shake") >= len(truth) // 2
