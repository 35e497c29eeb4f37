"""The integer export: thresholds on the exact integer boundary, votes, and the checks that
refuse code that does not match the scikit-learn model."""

import numpy as np
import pytest
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from training.export import (
    ExportError,
    IntegerModel,
    check_decisions,
    input_refs,
    integer_source,
    integer_threshold,
    leaf_votes,
    to_python,
    vote_packing,
)
from training.featurize import WindowSpec


@pytest.mark.parametrize(
    "threshold", [0.5, -0.5, 3.0, -3.0, 1234.5, -98839000.5, 2.0**24 + 3.5, -(2.0**27) - 17.5]
)
def test_integer_threshold_decides_like_sklearns_float32_comparison(threshold):
    t = integer_threshold(threshold)
    xs = np.arange(t - 300, t + 300)
    assert np.array_equal(xs <= t, xs.astype(np.float32) <= threshold)
    assert np.float32(t) <= threshold < np.float32(t + 1) or np.float32(t + 1) > threshold


def test_leaf_votes_give_every_leaf_exactly_its_share():
    x = np.random.default_rng(0).integers(-50, 50, (300, 4))
    y = np.random.default_rng(1).integers(0, 3, 300)
    tree = DecisionTreeClassifier(max_depth=4, class_weight="balanced").fit(x, y).tree_
    votes = leaf_votes(tree, 250)
    leaves = tree.children_left == -1
    assert (votes[leaves].sum(axis=1) == 250).all() and (votes[~leaves] == 0).all()
    fractions = tree.value[leaves, 0] / tree.value[leaves, 0].sum(axis=1, keepdims=True)
    assert np.abs(votes[leaves] / 250 - fractions).max() < 1 / 250


SPEC = WindowSpec(20, ("acc_x", "gyro_z"), True, ("mean", "std"))


def _fitted(kind, seed=0):
    from training.featurize import features, window_counts

    rng = np.random.default_rng(seed)
    counts = rng.integers(-20000, 20000, (3000, 6)).astype(np.int16)
    ends = np.arange(100, 3000, 3)
    x = features(window_counts(counts, ends, SPEC), SPEC)
    y = (x[:, -4] > 0).astype(int) + (x[:, 0] > 5000).astype(int)  # acc_x mean, time point
    est = {
        "tree": DecisionTreeClassifier(max_depth=6, random_state=seed),
        "forest": RandomForestClassifier(n_estimators=4, random_state=seed),
        "extra": ExtraTreesClassifier(n_estimators=5, max_depth=6, random_state=seed),
    }[kind]
    return est.fit(x, y), x


@pytest.mark.parametrize("kind", ["tree", "forest", "extra"])
def test_transformed_source_computes_the_host_votes(kind):
    from gesture.detector import Detector

    est, x = _fitted(kind)
    model = IntegerModel(est)
    check_decisions(model, x)
    namespace = {}
    exec(to_python(est, SPEC), namespace)
    manifest = {"schema": 2, "score_scale": model.scale, "rate_hz": 20, "decimation": 5,
                "window": SPEC.window, "signals": list(SPEC.signals), "features": SPEC.features,
                "classes": ["idle", "x", "y"][: len(est.classes_)],
                "postprocess": {"threshold": 0.5, "threshold_votes": model.scale // 2,
                                "min_hits": 2}}  # fmt: skip
    det = Detector(manifest, namespace["score"])
    got = []
    for row in x[:200].tolist():
        det.features.load_vector(row)
        got.append(list(det.check()))
    assert got == model.scores(x[:200]).tolist()
    assert "input" not in to_python(est, SPEC) and "." not in to_python(est, SPEC).split('"""')[2]


def test_time_points_are_read_from_the_window_and_stats_from_the_list():
    refs = input_refs(SPEC)
    n = SPEC.window
    assert refs[0] == ("w", 0) and refs[1] == ("w", 5 * 2 * n)  # acc_x, gyro_z at k = 0
    assert refs[2] == ("w", 1) and refs[2 * n] == ("f", 0)


def test_code_that_does_not_match_the_model_is_refused():
    import m2cgen

    est, _ = _fitted("tree")
    code = m2cgen.export_to_python(est, function_name="score")
    model = IntegerModel(est)
    refs = input_refs(SPEC)
    split = f"input[{est.tree_.feature[0]}] <= "
    assert split in code
    with pytest.raises(ExportError, match="split"):
        integer_source(code.replace(split, f"input[{est.tree_.feature[0] + 1}] <= ", 1),
                       model, refs)  # fmt: skip
    other, _ = _fitted("tree", seed=1)
    with pytest.raises(ExportError):
        integer_source(code, IntegerModel(other), refs)


def test_decisions_check_catches_a_wrong_integer_boundary(monkeypatch):
    from training import export

    est, x = _fitted("tree")
    check_decisions(IntegerModel(est), x)
    monkeypatch.setattr(export, "integer_threshold", lambda t: -(2**40))  # every split: right
    with pytest.raises(ExportError, match="disagrees"):
        check_decisions(IntegerModel(est), x)


def test_debouncer_threshold_in_votes_is_exact():
    from training.evaluation import votes_threshold

    assert votes_threshold(0.4, 2500) == 1000  # the float 0.4 is a hair above 2/5
    assert votes_threshold(0.7, 1000) == 700 and votes_threshold(0.7001, 1000) == 701
    assert votes_threshold(0.0, 750) == 0 and votes_threshold(1.0, 750) == 750


@pytest.mark.parametrize("scale", [250, 1000, 1500, 1023, 1024, 10_000, 2**15, 2**20, 2**29])
def test_vote_packing_keeps_every_partial_sum_a_small_int(scale):
    bits, per_word = vote_packing(scale)
    assert scale < 2**bits  # a class's votes never carry into the next field
    assert per_word >= 1 and bits * per_word <= 30 and bits * (per_word + 1) > 30
    most = sum(scale << (bits * i) for i in range(per_word))  # every field full
    assert most < 2**30


def test_vote_packing_refuses_a_scale_beyond_a_small_int():
    with pytest.raises(ExportError, match="small int"):
        vote_packing(2**30)


def _multiclass(n_classes, n_trees, depth):
    from training.featurize import features, window_counts

    rng = np.random.default_rng(n_classes)
    counts = rng.integers(-20000, 20000, (3000, 6)).astype(np.int16)
    x = features(window_counts(counts, np.arange(100, 3000, 3), SPEC), SPEC)
    y = (np.argsort(np.argsort(x[:, 0] + x[:, -4] // 20)) * n_classes) // len(x)
    est = RandomForestClassifier(n_estimators=n_trees, max_depth=depth, random_state=0)
    return est.fit(x, y), x


def _score_fn(est, model):
    import m2cgen

    code = m2cgen.export_to_python(est, function_name="score")
    namespace = {}
    exec(integer_source(code, model, input_refs(SPEC)), namespace)
    return namespace["score"]


def _manifest(model, n_classes):
    return {"schema": 2, "score_scale": model.scale, "rate_hz": 20, "decimation": 5,
            "window": SPEC.window, "signals": list(SPEC.signals), "features": SPEC.features,
            "classes": ["idle"] + [f"g{c}" for c in range(1, n_classes)],
            "postprocess": {"threshold": 0.5, "threshold_votes": model.scale // 2,
                            "min_hits": 2}}  # fmt: skip


@pytest.mark.parametrize(
    ("n_classes", "n_trees", "per_tree"),
    [(4, 4, 250), (7, 5, 250), (3, 3, 2**16), (2, 6, 250)],  # 3, 2, 1 and 2 classes per local
)
def test_packed_votes_are_the_host_votes_for_any_class_count_and_scale(
    n_classes, n_trees, per_tree
):
    from gesture.detector import Detector

    est, x = _multiclass(n_classes, n_trees, depth=5)  # shallow: leaves vote for many classes
    model = IntegerModel(est, per_tree)
    assert (np.count_nonzero(np.concatenate(model.votes), axis=1) >= 3).any() or n_classes < 3
    det = Detector(_manifest(model, n_classes), _score_fn(est, model))
    got = []
    for row in x[:300].tolist():
        det.features.load_vector(row)
        got.append(list(det.check()))
    assert got == model.scores(x[:300]).tolist()
    assert sorted({len(s) for s in map(set, got)}) != [1]  # not all one answer


def test_callers_passing_the_buffer_and_its_offset_get_the_same_votes():
    """The model reads the window at fixed positions from its oldest sample; a caller passing
    the plain buffer and the oldest slot (score's signature since schema 2) is served too."""
    from gesture.detector import Detector

    est, _ = _multiclass(4, 4, depth=8)
    model = IntegerModel(est)
    score = _score_fn(est, model)
    det = Detector(_manifest(model, 4), score)
    rng = np.random.default_rng(5)
    w, seen = det.window, set()
    for row in rng.integers(-20000, 20000, (600, 6)).tolist():
        det.push(*row)
        if w.full:
            stats = det.features.fill(w)
            fixed = list(score(w.views[w.oldest], 0, stats, [0] * 4))
            assert list(score(w.buffer, w.oldest, stats, [0] * 4)) == fixed
            seen.add(w.oldest)
    assert len(seen) == SPEC.window  # every oldest slot


SCORE_FRAME_SCRIPT = """
import micropython
from model import score
from gesture.window import RawWindow
w = RawWindow({window}, 5)
stats = [0] * 4
out = [0] * {n_classes}
views = w.views



def run():
    before = micropython.mem_total()
    for b in range({window}):
        score(views[b], 0, stats, out)
    return micropython.mem_total() - before


run()
print(run(), sum(out))
"""


@pytest.mark.parametrize("n_classes", [2, 4, 7])
def test_score_frame_stays_off_the_heap_under_micropython(n_classes, run_micropython, tmp_path):
    """The VM puts a call frame of more than 11 slots on the heap (allocated and freed on
    every call, a search of the heap each time): packed vote locals keep score() within it."""
    import m2cgen

    from training.export import compile_mpy

    est, _ = _multiclass(n_classes, 4, depth=8)
    model = IntegerModel(est)
    code = m2cgen.export_to_python(est, function_name="score")
    compile_mpy(integer_source(code, model, input_refs(SPEC)), tmp_path / "model.mpy")
    script = SCORE_FRAME_SCRIPT.format(window=SPEC.window, n_classes=n_classes)
    grown, total = map(int, run_micropython(script, tmp_path).split())
    assert total == model.scale
    assert grown == 0
