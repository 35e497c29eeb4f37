"""Model promotion: a candidate becomes current only if it beats the current model on the
evaluation streams and fits the device budgets. Pure: numbers in, decision and reason out."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Budgets:
    """What a model may cost on the ESP32: bytes of the model.mpy the device imports."""

    model_mpy_bytes: int

    @classmethod
    def from_params(cls, params: dict, default: Budgets) -> Budgets:
        """`default` (training's budget) with the execution input's "budgets" applied."""
        given = params.get("budgets", {}) or {}
        unknown = set(given) - set(asdict(default))
        if unknown:
            raise ValueError(f"unknown budget(s): {sorted(unknown)}")
        return cls(**(asdict(default) | {k: int(v) for k, v in given.items()}))


@dataclass(frozen=True)
class Candidate:
    """A model folder's version, evaluation score (higher is better) and file sizes."""

    version: str
    score: float
    file_bytes: dict[str, int]


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def budget_overruns(candidate: Candidate, budgets: Budgets) -> list[str]:
    """Human-readable overruns, empty if the candidate fits."""
    limits = {"model.mpy": budgets.model_mpy_bytes}
    overruns = []
    for name, limit in limits.items():
        size = candidate.file_bytes.get(name)
        if size is None:
            overruns.append(f"{name} missing from the model folder")
        elif size > limit:
            overruns.append(f"{name} is {size} bytes, budget {limit}")
    return overruns


def decide(candidate: Candidate, current: Candidate | None, budgets: Budgets) -> Decision:
    """Promote only a candidate that fits the budgets and scores strictly higher than current."""
    overruns = budget_overruns(candidate, budgets)
    if overruns:
        return Decision(False, "candidate exceeds the device budgets: " + "; ".join(overruns))
    if current is None:
        return Decision(True, f"no current model; candidate scores {candidate.score:.4f}")
    if candidate.version == current.version:
        return Decision(False, f"candidate {candidate.version} is already the current model")
    if candidate.score > current.score:
        return Decision(
            True,
            f"candidate scores {candidate.score:.4f} > current {current.score:.4f}"
            " on the evaluation streams",
        )
    return Decision(
        False,
        f"candidate scores {candidate.score:.4f} <= current {current.score:.4f}"
        " on the evaluation streams",
    )
