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


def test_budgets_default_to_trainings_and_reject_unknown_names():
    assert Budgets.from_params({}, BUDGET) == BUDGET
    assert (
        Budgets.from_params({"budgets": {"model_mpy_bytes": "100"}}, BUDGET).model_mpy_bytes == 100
    )
    with pytest.raises(ValueError, match="unknown budget"):
        Budgets.from_params({"budgets": {"ram": 1}}, BUDGET)
