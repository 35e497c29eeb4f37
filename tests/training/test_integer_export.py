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
