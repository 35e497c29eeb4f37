"""Model promotion: a candidate becomes current only if it fits the device budgets and beats the
current model on the evaluation streams; a candidate that adds gestures only if it loses no
event F1 on any gesture the current model knows (per gesture, same streams) and reaches
NEW_GESTURE_F1 on each new one. Pure: numbers in, decision and reason out."""

from __future__ import annotations

from dataclasses import dataclass, field

from gesture.spec import MODEL_MPY

NEW_GESTURE_F1 = 0.8  # event F1 a gesture the fleet does not know yet must reach to ship


@dataclass(frozen=True)
class Budgets:
    """What a model may cost on the ESP32: bytes of the model.mpy the device imports (the
    execution input's training.budgets over training/params.yml's budgets: one name)."""

    model_mpy_bytes: int


@dataclass(frozen=True)
class Candidate:
    """A model folder's version, evaluation score (higher is better), file sizes, gestures
    (its vocabulary) and event F1 per gesture on the evaluation streams."""

    version: str
    score: float
    file_bytes: dict[str, int]
    gestures: tuple[str, ...] = ()
    per_gesture_f1: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    promote: bool
    reason: str


def budget_overruns(candidate: Candidate, budgets: Budgets) -> list[str]:
    """Human-readable overruns, empty if the candidate fits."""
    limits = {MODEL_MPY: budgets.model_mpy_bytes}
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
    if set(candidate.gestures) != set(current.gestures):
        return vocabulary_change(candidate, current)
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


def vocabulary_change(candidate: Candidate, current: Candidate) -> Decision:
    """A candidate whose gestures differ: it may add gestures, never drop one, lose no F1 on
    any gesture the current model knows, and reach NEW_GESTURE_F1 on every added one."""
    dropped = sorted(set(current.gestures) - set(candidate.gestures))
    if dropped:
        return Decision(
            False, f"candidate drops {', '.join(dropped)}, which the current model knows"
        )
    added = sorted(set(candidate.gestures) - set(current.gestures))
    new_f1 = {g: candidate.per_gesture_f1.get(g) for g in added}
    weak = [f"{g} (F1 {_f1(f)} < {NEW_GESTURE_F1})" for g, f in new_f1.items()
            if f is None or f < NEW_GESTURE_F1]  # fmt: skip
    known = {g: (candidate.per_gesture_f1.get(g), current.per_gesture_f1.get(g))
             for g in sorted(current.gestures)}  # fmt: skip
    lost = [f"{g} ({_f1(new)} < {_f1(old)})" for g, (new, old) in known.items()
            if (new or 0.0) < (old or 0.0)]  # fmt: skip
    kept = ", ".join(f"{g} {_f1(new)} >= {_f1(old)}" for g, (new, old) in known.items())
    adds = ", ".join(f"{g} (F1 {_f1(f)})" for g, f in new_f1.items())
    if weak or lost:
        problems = [f"new gesture below the gate: {'; '.join(weak)}"] if weak else []
        problems += [f"loses F1 on a known gesture: {'; '.join(lost)}"] if lost else []
        return Decision(False, f"candidate adds {adds} but " + " and ".join(problems))
    return Decision(
        True,
        f"candidate adds {adds}, each at or above the gate F1 {NEW_GESTURE_F1}, and loses no F1 on "
        f"the gestures the current model knows ({kept}) on the same evaluation streams",
    )


def _f1(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"
