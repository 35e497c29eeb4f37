"""The exported model agrees with scikit-learn under CPython and the micropython binary."""

import json

import numpy as np
import pytest

from training.detect import detect_raw, load_model, load_score
from training.export import ExportError, compile_mpy
from training.manifest import Manifest, read_manifest
from training.rawunits import si_to_counts
from training.synthetic import generate_recording


def test_model_folder_is_complete_and_consistent(tiny_model):
    folder = tiny_model.model_dir
    manifest = read_manifest(folder)
    assert {p.name for p in folder.iterdir()} >= {
        "manifest.json",
        "model.py",
        "model.mpy",
        "vectors.json",
    }
    from training.export import file_info

    for name, info in manifest.files.items():
        assert file_info(folder / name) == info.model_dump()
    assert manifest.version.endswith(manifest.files["model.py"].sha256[:8])
    assert manifest.rate_hz * manifest.decimation == 100
    assert manifest.files["model.mpy"].bytes <= 20480
    assert manifest.classes[0] == "idle"


def test_manifest_rejects_inconsistent_rate(tiny_model):
    data = json.loads((tiny_model.model_dir / "manifest.json").read_text())
    data["decimation"] = 3
    with pytest.raises(ValueError, match="decimation"):
        Manifest.model_validate(data)


def test_sklearn_and_m2cgen_agree_on_hundreds_of_vectors(tiny_model):
    vectors = json.loads((tiny_model.model_dir / "vectors.json").read_text())["vectors"]
    assert len(vectors) >= 100
    score = load_score(tiny_model.model_dir)
    x = np.array([v["features"] for v in vectors])
    expected = tiny_model.estimator.predict_proba(x)
    np.testing.assert_allclose([v["proba"] for v in vectors], expected, atol=1e-12)
    for row, proba in zip(x.tolist(), expected, strict=True):
        assert score(row) == pytest.approx(list(proba), abs=1e-9)


def test_micropython_runs_the_mpy_model_with_the_same_probabilities(tiny_model, run_micropython):
    folder = tiny_model.model_dir
    out = run_micropython(
        "import json\nimport model\n"
        f"vectors = json.load(open({str(folder / 'vectors.json')!r}))['vectors']\n"
        "print(json.dumps([model.score(v['features']) for v in vectors]))\n",
        folder,
    )
    got = json.loads(out)
    vectors = json.loads((folder / "vectors.json").read_text())["vectors"]
    assert len(got) == len(vectors)
    for g, v in zip(got, vectors, strict=True):
        assert g == pytest.approx(v["proba"], abs=1e-9)


def test_detector_under_micropython_finds_the_same_events_as_cpython(
    tiny_model, run_micropython, tmp_path
):
    samples, truth = generate_recording(99, 40)
    counts = si_to_counts(samples[:, :6])
    manifest, score = load_model(tiny_model.model_dir)
    expected = detect_raw(manifest, score, counts.tolist())
    assert len(expected) >= len(truth) // 2  # the model finds gestures at all
    counts_file = tmp_path / "counts.txt"
    counts_file.write_text("\n".join(" ".join(str(v) for v in row) for row in counts.tolist()))
    folder = tiny_model.model_dir
    out = run_micropython(
        "import json\nimport model\nfrom gesture.detector import Detector\n"
        f"det = Detector(json.load(open({str(folder / 'manifest.json')!r})), model.score)\n"
        "events = []\n"
        f"for line in open({str(counts_file)!r}):\n"
        "    ev = det.push(*[int(v) for v in line.split()])\n"
        "    if ev:\n"
        "        events.append({'t_ms': ev[0] * 10, 'gesture': ev[1], 'score': round(ev[2], 4)})\n"
        "print(json.dumps(events))\n",
        folder,
    )
    assert json.loads(out) == expected


def test_mpy_cross_errors_are_reported(tmp_path):
    with pytest.raises(ExportError, match="mpy-cross"):
        compile_mpy("def broken(:\n", tmp_path / "x.mpy")


def test_numpy_features_equal_device_features_exactly():
    from gesture.features import Features
    from gesture.window import RawWindow

    from training.featurize import WindowSpec, features, window_counts

    spec = WindowSpec(
        20, ("acc_x", "acc_z", "gyro_y"), True, ("mean", "std", "min", "max", "absdiff")
    )
    rng = np.random.default_rng(0)
    counts = rng.integers(-32768, 32767, (400, 6)).astype(np.int16)
    ends = np.array([100, 257, 399])
    host = features(window_counts(counts, ends, spec), spec)
    device = Features(spec.features, list(spec.signals), spec.window)
    for end, row in zip(ends, host, strict=True):
        w = RawWindow(spec.window, spec.decimation)
        for i in range(end - (spec.window - 1) * spec.decimation, end + 1):
            w.push(*[int(v) for v in counts[i]])
        assert device.fill(w, device.new_vector()) == row.tolist()


def test_host_evaluation_and_device_detector_give_the_same_events(tiny_model):
    from training.evaluation import debounce
    from training.selection import score_streams
    from training.streams import Stream

    samples, truth = generate_recording(321, 60)
    stream = Stream("s", samples[:, :6], truth)
    classes = tiny_model.manifest.classes
    (scored,) = score_streams(tiny_model.estimator, [stream], tiny_model.selected.spec, classes)
    pp = tiny_model.manifest.postprocess.model_dump()
    host = [(d.t_ms, d.gesture) for d in debounce(classes, pp, scored.ends, scored.proba)]
    manifest, score = load_model(tiny_model.model_dir)
    device = [
        (e["t_ms"], e["gesture"])
        for e in detect_raw(manifest, score, si_to_counts(samples[:, :6]).tolist())
    ]
    assert host and host == device
