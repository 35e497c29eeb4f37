"""pipeline.promotion: a candidate replaces the current model only if better and within budget."""

from __future__ import annotations

import pytest

from pipeline.promotion import Budgets, Candidate, decide

FITS = {"model.mpy": 10_000, "model.py": 50_000}
BUDGET = Budgets(model_mpy_bytes=20_480)


def cand(version="v2", score=0.8, files=FITS) -> Candidate:
    return Candidate(version, score, dict(files))


def test_first_model_is_promoted_when_it_fits():
    assert decide(cand(), None, BUDGET).promote


def test_better_model_is_promoted_and_the_reason_shows_both_scores():
    d = decide(cand(score=0.81), cand("v1", 0.8), BUDGET)
    assert d.promote and "0.8100 > current 0.8000" in d.reason


@pytest.mark.parametrize("score", [0.8, 0.79])
def test_equal_or_worse_model_is_not_promoted(score):
    d = decide(cand(score=score), cand("v1", 0.8), BUDGET)
    assert not d.promote and "<= current 0.8000" in d.reason


def test_better_model_over_budget_is_not_promoted():
    big = cand(score=0.99, files={"model.mpy": 20_481, "model.py": 50_000})
    d = decide(big, cand("v1", 0.5), BUDGET)
    assert not d.promote and "model.mpy is 20481 bytes, budget 20480" in d.reason


def test_model_without_its_device_file_is_not_promoted():
    d = decide(cand(files={"model.py": 1}), None, BUDGET)
    assert not d.promote and "model.mpy missing" in d.reason


def test_same_version_is_not_promoted_again():
    assert not decide(cand("v1", 0.9), cand("v1", 0.9), BUDGET).promote


def vocab(version, score, gestures, f1, mpy=1000):
    return Candidate(version, score, {"model.mpy": mpy}, tuple(gestures), dict(f1))


CURRENT = vocab("v1", 0.97, "xy", {"x": 0.96, "y": 0.98})


def test_a_candidate_that_adds_a_gesture_without_losing_any_is_promoted_and_says_why():
    new = vocab("v2", 0.90, ["shake", "x", "y"], {"shake": 0.85, "x": 0.96, "y": 0.99})
    d = decide(new, CURRENT, BUDGET)  # lower overall score: the new gesture's data is harder
    assert d.promote
    assert "adds shake (F1 0.850)" in d.reason and "loses no F1" in d.reason
    assert "x 0.960 >= 0.960" in d.reason and "y 0.990 >= 0.980" in d.reason


@pytest.mark.parametrize(
    "f1, why",
    [
        ({"shake": 0.85, "x": 0.95, "y": 0.99}, "loses F1 on a known gesture: x (0.950 < 0.960)"),
        ({"shake": 0.79, "x": 0.96, "y": 0.99}, "new gesture below the gate: shake (F1 0.790"),
        ({"x": 0.99, "y": 0.99}, "shake (F1 n/a < 0.8)"),  # never evaluated: not shipped
    ],
)
def test_a_candidate_that_adds_a_gesture_is_refused_if_any_class_suffers(f1, why):
    d = decide(vocab("v2", 0.99, ["shake", "x", "y"], f1), CURRENT, BUDGET)
    assert not d.promote and why in d.reason


def test_a_candidate_that_drops_a_known_gesture_is_refused():
    d = decide(vocab("v2", 1.0, ["shake", "x"], {"shake": 1, "x": 1}), CURRENT, BUDGET)
    assert not d.promote and "drops y" in d.reason


def test_the_budget_still_comes_first_for_a_new_gesture():
    new = vocab("v2", 1.0, ["shake", "x", "y"], {"shake": 1, "x": 1, "y": 1}, mpy=10**6)
    assert not decide(new, CURRENT, BUDGET).promote
