"""Model candidates: fit, measure against the device budgets, score as events on streams."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

from training.augment import augmented
from training.calibration import ScoredStream
from training.evaluation import EventScore
from training.export import IntegerModel, mpy_size, to_python
from training.featurize import (
    WindowSpec,
    device_ends,
    features,
    training_windows,
    window_counts,
)
from training.params import Candidate, TrainParams
from training.rawunits import si_to_counts
from training.streams import Stream

BYTES_PER_NODE = 28  # rough .mpy bytes per tree node, to skip compiling hopeless candidates


@dataclass
class CandidateResult:
    candidate: Candidate
    spec: WindowSpec
    estimator: object = None
    mpy_bytes: int = 0
    fit_s: float = 0.0
    within_budget: bool = False
    postprocess: dict = field(default_factory=dict)
    score: EventScore | None = None
    oof: list[ScoredStream] = field(default_factory=list)  # out-of-fold streams it was scored on

    def row(self) -> dict:
        s = self.score.as_dict() if self.score else {}
        return {
            "candidate": self.candidate.key,
            "mpy_bytes": self.mpy_bytes,
            "within_budget": self.within_budget,
            "fit_s": round(self.fit_s, 3),
            "f1": s.get("f1"),
            "precision": s.get("precision"),
            "recall": s.get("recall"),
            "false_per_idle_minute": s.get("false_per_idle_minute"),
        }


def spec_of(c: Candidate) -> WindowSpec:
    return WindowSpec(
        c.rate_hz,
        tuple(c.signals),
        bool(c.features.get("time_points", True)),
        tuple(c.features.get("stats", ())),
    )


def make_estimator(c: Candidate, class_weight: str | None, seed: int):
    """The scikit-learn tree model a candidate names."""
    common = {
        "max_depth": c.max_depth,
        "max_leaf_nodes": c.max_leaf_nodes,
        "class_weight": class_weight,
        "random_state": seed,
        "min_samples_leaf": 2,
    }
    if c.estimator == "decision_tree":
        return DecisionTreeClassifier(**common)
    kinds = {"random_forest": RandomForestClassifier, "extra_trees": ExtraTreesClassifier}
    if c.estimator not in kinds:
        raise ValueError(f"unknown estimator {c.estimator!r}")
    return kinds[c.estimator](n_estimators=c.n_estimators, **common)


def node_count(estimator) -> int:
    trees = getattr(estimator, "estimators_", [estimator])
    return sum(t.tree_.node_count for t in trees)


def full_scores(model: IntegerModel, x: np.ndarray, n_classes: int) -> np.ndarray:
    """The device's class votes with a column for every class, even ones missing from training."""
    scores = np.zeros((len(x), n_classes), dtype=np.int64)
    scores[:, model.estimator.classes_] = model.scores(x)
    return scores


def score_streams(
    estimator, streams: list[Stream], spec: WindowSpec, classes: tuple[str, ...]
) -> list[ScoredStream]:
    """Window class votes (a column per class) at the device's inference positions on each
    stream, computed as the device computes them (integer features, integer leaf votes)."""
    model = IntegerModel(estimator)
    out = []
    for s in streams:
        ends = device_ends(len(s.samples), spec)
        if not len(ends):
            continue
        x = features(window_counts(si_to_counts(s.samples), ends, spec), spec)
        out.append(ScoredStream(s, ends, full_scores(model, x, len(classes)), model.scale))
    return out


class WindowCache:
    """Training windows per window spec, shared by the candidates that use the same spec."""

    def __init__(self, streams: list[Stream], params: TrainParams, classes: tuple[str, ...]):
        a = params.augment
        self.streams = augmented(
            streams, a.copies, a.speed, a.amplitude, params.seed, a.rotation_deg, a.rotated_copies
        )
        self.params, self.classes, self._cache = params, tuple(classes), {}

    def get(self, spec: WindowSpec) -> tuple[np.ndarray, np.ndarray]:
        if spec not in self._cache:
            w = self.params.windows
            self._cache[spec] = training_windows(
                self.streams, spec, w.stride, w.positive_min_fraction, w.negative_max_fraction,
                self.classes,
            )  # fmt: skip
        return self._cache[spec]


def fit(
    c: Candidate, cache: WindowCache, params: TrainParams, measure: bool = True
) -> CandidateResult:
    """Fit a candidate and (if `measure`) its .mpy size against the budget."""
    spec = spec_of(c)
    x, y = cache.get(spec)
    started = time.perf_counter()
    estimator = make_estimator(c, params.windows.class_weight, params.seed).fit(x, y)
    result = CandidateResult(c, spec, estimator, fit_s=time.perf_counter() - started)
    budget = params.budgets.model_mpy_bytes
    if not measure:
        return result
    if node_count(estimator) * BYTES_PER_NODE > 3 * budget:
        result.mpy_bytes = node_count(estimator) * BYTES_PER_NODE  # estimate; far over budget
    else:
        result.mpy_bytes = mpy_size(to_python(estimator, spec))
    result.within_budget = result.mpy_bytes <= budget
    return result


def ranked(results: list[CandidateResult], margin: float = 0.01) -> list[CandidateResult]:
    """Candidates within budget, best first: those within `margin` of the top event F1 (one
    event in a hundred is noise) by fewest false events on idle, then F1, then size; then the
    rest by F1."""
    fitting = [r for r in results if r.within_budget and r.score is not None]
    if not fitting:
        raise ValueError("no candidate fits the device budget; use smaller trees")
    top = max(r.score.f1 for r in fitting)
    near = [r for r in fitting if r.score.f1 >= top - margin]
    rest = [r for r in fitting if r.score.f1 < top - margin]
    return sorted(near, key=lambda r: (r.score.idle_fp, -r.score.f1, r.mpy_bytes)) + sorted(
        rest, key=lambda r: -r.score.f1
    )
