"""models/current.json changes by compare-and-swap: a run promotes only if the pointer is still
the one it scored against.

`ModelPointer` is the S3 adapter (functions/adapters/data_bucket.py, the one home of the
publication protocol): `read()` returns the pointer with its ETag, `swap()` writes a new
pointer with `If-Match` on that ETag (or `If-None-Match: *` when there was none), so S3 refuses
the write (412) if another run changed the pointer in between. Every pointer a run writes
names the run and the time, so two writes never share an ETag (no A-B-A).

`promote()` is the mechanism, and only that: whether a candidate is better is the `decide`
function it is given (pipeline/promotion.py), and scoring the current model is the
`score_current` function. On a lost race it scores the candidate against the new current
model and decides again, at most `attempts` times; then it ends `superseded`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from functions.adapters.data_bucket import ModelPointer, Seen

__all__ = ["KEPT", "PROMOTED", "SUPERSEDED", "ModelPointer", "Outcome", "Seen", "promote"]

PROMOTION_ATTEMPTS = 3  # swaps a run tries before it ends `superseded`

PROMOTED, KEPT, SUPERSEDED = "promoted", "kept", "superseded"


@dataclass(frozen=True)
class Outcome:
    outcome: str  # PROMOTED | KEPT | SUPERSEDED
    reason: str
    seen: Seen  # the current model the last decision was made against
    current: Any  # what score_current returned for it
    attempts: int
    changed_by_others: tuple[str | None, ...]  # versions other runs made current meanwhile

    @property
    def promoted(self) -> bool:
        return self.outcome == PROMOTED


def promote(
    pointer: ModelPointer,
    score_current: Callable[[Seen], Any],
    decide: Callable[[Any], Any],
    publish: Callable[[], dict],
    attempts: int = PROMOTION_ATTEMPTS,
) -> Outcome:
    """Decide against the current model and swap the pointer if it is still that model.

    score_current(seen) -> whatever decide needs about the current model (None if none);
    decide(current) -> a decision with .promote and .reason
    (pipeline/promotion.Decision); publish() uploads the candidate's files (once) and returns
    the new pointer body. Bounded: after `attempts` lost races the outcome is SUPERSEDED.
    """
    seen = pointer.read()
    others: list[str | None] = []
    published: dict | None = None
    current = None
    for attempt in range(1, attempts + 1):
        current = score_current(seen)
        verdict = decide(current)
        if not verdict.promote:
            if others:
                return Outcome(
                    SUPERSEDED,
                    f"{_changed(others)} while this run was scoring; against it: {verdict.reason}",
                    seen,
                    current,
                    attempt,
                    tuple(others),
                )
            return Outcome(KEPT, verdict.reason, seen, current, attempt, ())
        published = published or publish()
        if pointer.swap(seen, published):
            return Outcome(PROMOTED, verdict.reason, seen, current, attempt, tuple(others))
        seen = pointer.read()
        others.append(seen.version)
    return Outcome(
        SUPERSEDED,
        f"{_changed(others)} while this run was promoting, {attempts} times; "
        "it gave up without promoting (start it again to score against the newest model)",
        seen,
        current,
        attempts,
        tuple(others),
    )


def _changed(versions: list[str | None]) -> str:
    names = ", ".join(str(v) for v in versions)
    return f"another run changed models/current.json (to {names})"
