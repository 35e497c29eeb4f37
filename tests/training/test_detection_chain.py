import json
import math

import pytest
from gesture.detector import Detector
from gesture.features import Features, feature_names, std_shift
from gesture.postprocess import Debouncer
from gesture.window import RawWindow

CLASSES = ["idle", "x", "y", "circle"]
SCALE = 100  # votes per window: the model's class scores, integers
IDLE = [90, 5, 3, 2]
X = [10, 80, 5, 5]
CIRCLE = [10, 10, 10, 70]


def params(**kw):
    base = {"threshold": 0.5, "min_hits": 3, "max_gap": 0, "refractory": 0, "time_offset": 0}
    base |= kw
    return base | {"threshold_votes": round(base["threshold"] * SCALE)}


def run(deb, probas):
    return [(i, ev) for i, p in enumerate(probas) if (ev := deb.update(p, i * 5))]


def test_window_keeps_every_nth_sample_in_time_order():
    w = RawWindow(3, 5)
    kept = [w.push(i, 0, 0, 0, 0, -i) for i in range(23)]
    assert kept == [i % 5 == 0 for i in range(23)]
    assert w.full
    assert [w.value(k, 0) for k in range(3)] == [10, 15, 20]
    assert [w.value(k, 5) for k in range(3)] == [-10, -15, -20]
    w.reset()
    assert not w.full and w.push(1, 1, 1, 1, 1, 1)


def test_window_rejects_bad_config():
    with pytest.raises(ValueError):
        RawWindow(1, 5)


def test_features_are_integer_counts_time_points_in_the_window_then_stats():
    w = RawWindow(3, 1)
    f = Features({"time_points": True, "stats": ["mean", "std", "min", "max", "absdiff"]},
                 ["acc_x", "gyro_z"], w)  # fmt: skip
    for v in (131, 262, 0, 7):
        w.push(16384, 0, 0, 0, 0, v)
        f.update(w)
    assert [w.value(k, 5) for k in range(3)] == [262, 0, 7]
    # time points are read by the model from the window buffer, not copied
    assert [f.input_ref(i) for i in (0, 1, 5)] == [("w", 0), ("w", 5 * 6), ("w", 5 * 6 + 2)]
    assert f.input_ref(6) == ("f", 0) and f.size == 6 + 10
    # per signal: sum, isqrt(ceil(n * var)), min, max, sum |diff|  (n = 3, counts >> std_shift(3))
    u = [v >> std_shift(3) for v in (262, 0, 7)]
    n_var = 3 * sum(x * x for x in u) - sum(u) ** 2  # n^2 var; ceil(n var) = ceil(this / n)
    assert f.fill(w) == [3 * 16384, 0, 16384, 16384, 0,
                         269, math.isqrt(-(-n_var // 3)), 0, 262, 262 + 7]  # fmt: skip
    w.reset()
    f.reset()
    assert f.vector == [0] * 10 and w.value(2, 5) == 0
    names = feature_names({"stats": ["mean"]}, ["acc_x", "gyro_z"], 3, 20)
    assert names == ["acc_x_0", "gyro_z_0", "acc_x_50", "gyro_z_50", "acc_x_100", "gyro_z_100",
                     "acc_x_mean", "gyro_z_mean"]  # fmt: skip


def test_isqrt_is_exact_on_device_and_host():
    import numpy as np
    from gesture.features import isqrt

    from training.featurize import isqrt as host_isqrt

    values = [0, 1, 2, 3, 4, 15, 16, 17, 99, 100, 101, 2**30 - 1, 2**30, 2**52 - 1]
    values += [k * k + d for k in (3, 46340, 46341, 2**20) for d in (-1, 0, 1)]
    expected = [math.isqrt(v) for v in values]
    assert [isqrt(v) for v in values] == expected
    assert host_isqrt(np.array(values, dtype=np.int64)).tolist() == expected
    assert isqrt(-5) == 0 and host_isqrt(np.array([-5])).tolist() == [0]


def test_std_feature_is_linear_in_the_standard_deviation():
    """Twice the motion, twice the std feature (not four times): extra trees cut uniformly
    between a feature's extremes, and on a squared scale their cuts miss the quiet windows."""
    import numpy as np

    from training.featurize import WindowSpec, features

    spec = WindowSpec(rate_hz=25, signals=("gyro_x",), time_points=False, stats=("std",))
    wave = np.sin(np.linspace(0, 6 * np.pi, 26))
    windows = np.zeros((3, 26, 6), dtype=np.int64)
    for row, amp in enumerate((2000, 4000, 8000)):
        windows[row, :, 3] = np.round(amp * wave)
    small, double, quadruple = features(windows, spec)[:, 0].tolist()
    assert abs(double / small - 2) < 0.02 and abs(quadruple / small - 4) < 0.02


def test_features_reject_unknown_signal_or_stat():
    with pytest.raises(ValueError):
        Features({"stats": ["median"]}, ["acc_x"], RawWindow(3, 1))
    with pytest.raises(ValueError):
        Features({}, ["mag"], RawWindow(3, 1))


def test_debouncer_needs_min_hits_above_threshold():
    deb = Debouncer(CLASSES, params(min_hits=3), SCALE)
    assert run(deb, [X, X, IDLE, X, X]) == []
    deb.reset()
    assert run(deb, [X, X, X]) == [(2, (5, "x", pytest.approx(0.8)))]
    deb = Debouncer(CLASSES, params(threshold=0.85), SCALE)
    assert run(deb, [X] * 10) == []


def test_debouncer_tolerates_gaps_votes_and_applies_time_offset():
    deb = Debouncer(CLASSES, params(min_hits=4, max_gap=1, time_offset=3), SCALE)
    events = run(deb, [CIRCLE, IDLE, X, CIRCLE, CIRCLE])
    # hits at inferences 0,2,3,4 -> ends 0,10,15,20 -> mean 11 - offset 3
    assert events == [(4, (8, "circle", pytest.approx(2.1 / 4)))]


def test_debouncer_refractory_and_one_event_per_run():
    deb = Debouncer(CLASSES, params(min_hits=2, refractory=3), SCALE)
    events = run(deb, [X] * 12 + [IDLE] + [X, X])
    assert [i for i, _ in events] == [1, 14]  # the long run fires once; the new run fires again


def test_debouncer_rejects_bad_params():
    with pytest.raises(ValueError):
        Debouncer(CLASSES, params(min_hits=0), SCALE)
    with pytest.raises(ValueError):
        Debouncer(["x", "y"], params(), SCALE)
    with pytest.raises(ValueError):
        Debouncer(CLASSES, params(), 0)


MANIFEST = {
    "schema": 2,
    "score_scale": SCALE,
    "capture_hz": 100,
    "rate_hz": 20,
    "decimation": 5,
    "window": 21,
    "hop": 2,
    "signals": ["acc_x", "gyro_z"],
    "features": {"time_points": True, "stats": ["mean", "std", "absdiff"]},
    "classes": CLASSES,
    "postprocess": params(min_hits=3, max_gap=1, refractory=10, time_offset=50),
}
SCORE_SRC = """
def score(w, b, f, o):
    if w[b] > 8352:  # acc_x at the window's oldest sample above ~5 m/s^2
        o[0], o[1], o[2], o[3] = 10, 80, 5, 5
    else:
        o[0], o[1], o[2], o[3] = 90, 5, 3, 2
    return o
"""
STREAM_SRC = """
def stream():
    for i in range(3000):
        ax = 16384 if (i % 1000) in range(300, 380) else (i * 37) % 200 - 100
        yield (ax, -5, 16384, 3, (i * 7) % 50, i % 11)
"""


def detector_events(det, stream):
    return [(ev[0], ev[1], round(ev[2], 6)) for s in stream() if (ev := det.push(*s))]


def test_detector_decimates_windows_and_fires_once_per_gesture():
    namespace = {}
    exec(SCORE_SRC + STREAM_SRC, namespace)
    det = Detector(MANIFEST, namespace["score"])
    events = detector_events(det, namespace["stream"])
    assert [e[1] for e in events] == ["x", "x", "x"]
    # the burst is at 300..380 (+1000 k); the event time lands inside it
    assert all(300 <= e[0] % 1000 <= 380 for e in events)
    assert det.inferences == (3000 // 5 - 20 + 1) // 2
    assert len(det.last_proba) == 4
    det.reset()
    assert det.last_proba is None and det.inferences == 0


def test_detector_rejects_inconsistent_rate():
    with pytest.raises(ValueError):
        Detector(MANIFEST | {"decimation": 4}, lambda w, b, f, o: o)


def test_detector_rejects_float_models_and_models_for_other_classes():
    with pytest.raises(ValueError, match="schema 1"):
        Detector(MANIFEST | {"schema": 1}, lambda w, b, f, o: o)

    def three_classes(w, b, f, o):
        o[0], o[1], o[2] = 50, 25, 25
        return o

    with pytest.raises(ValueError, match="classes and scale"):
        Detector(MANIFEST, three_classes).check()
    namespace = {}
    exec(SCORE_SRC, namespace)
    assert Detector(MANIFEST, namespace["score"]).check() == [90, 5, 3, 2]


def test_detector_gives_identical_events_under_micropython(run_micropython):
    namespace = {}
    exec(SCORE_SRC + STREAM_SRC, namespace)
    expected = detector_events(Detector(MANIFEST, namespace["score"]), namespace["stream"])
    out = run_micropython(
        "import json\nfrom gesture.detector import Detector\n"
        + SCORE_SRC
        + STREAM_SRC
        + f"det = Detector(json.loads({json.dumps(json.dumps(MANIFEST))}), score)\n"
        + "evs = []\nfor s in stream():\n    ev = det.push(*s)\n"
        + "    if ev: evs.append([ev[0], ev[1], round(ev[2], 6)])\n"
        + "print(json.dumps(evs))\n"
    )
    assert [tuple(e) for e in json.loads(out)] == expected


def test_push_allocates_nothing_between_inferences(run_micropython):
    manifest = MANIFEST | {"hop": 10**6}  # fill the window, then never infer
    out = run_micropython(
        "import json, micropython\nfrom gesture.detector import Detector\n"
        + SCORE_SRC
        + f"det = Detector(json.loads({json.dumps(json.dumps(manifest))}), score)\n"
        + "for i in range(200):\n    det.push(i, 1, 2, 3, 4, 5)\n"
        + "micropython.heap_lock()\n"
        + "for i in range(1000):\n    det.push(i, -i, 2, 3, 4, 5)\n"
        + "micropython.heap_unlock()\n"
        + "print('ok', det._index)\n"
    )
    assert out.split() == ["ok", "1199"]


def test_detector_infers_where_the_host_evaluation_expects_it():
    from training.featurize import WindowSpec, device_ends

    seen = []
    det = Detector(MANIFEST | {"hop": 3}, lambda w, b, f, o: seen.append(det._index))
    for i in range(700):
        det.push(i % 100, 0, 16384, 0, 0, 0)
    spec = WindowSpec(20, ("acc_x",), True, (), hop=3)
    assert seen == device_ends(700, spec).tolist()


def test_isqrt_from_any_guess_is_exact_under_micropython(run_micropython):
    """The device starts Newton from the last window's root: whatever the guess (far below,
    just below, exact, just above, far above), the root is the same, and every step stays
    within the small ints of a 32-bit port for values up to 2^30 - 1."""
    values = [1, 2, 3, 15, 16, 17, 99, 100, 2**30 - 1]
    values += [k * k + d for k in (3, 181, 32767) for d in (-1, 0, 1) if k * k + d < 2**30]
    out = run_micropython(
        "from gesture.features import isqrt\n"
        f"values = {values!r}\n"
        "for v in values:\n"
        "    r = isqrt(v)\n"
        "    got = set(isqrt(v, g) for g in (1, 2, r - 1, r, r + 1, 3 * r + 7, 32767) if g > 0)\n"
        "    print(v, r, sorted(got))\n"
    )
    lines = out.splitlines()
    assert len(lines) == len(values)
    for v, line in zip(values, lines, strict=True):
        assert line == f"{v} {math.isqrt(v)} [{math.isqrt(v)}]"
