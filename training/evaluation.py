"""Event-level scoring: run the device debouncer on window class votes, match events.

A detection matches a true event when its time falls inside the event's interval widened by a
tolerance and the class agrees; a wrong class counts as a miss and a false event; a second
detection of the same event is a false event.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import numpy as np
from gesture.postprocess import Debouncer

from training.recordings import STEP_MS, Event


@dataclass(frozen=True)
class Detection:
    t_ms: int
    gesture: str
    score: float


@dataclass
class EventScore:
    """Counts over one or more streams, and the metrics users feel."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    idle_fp: int = 0  # false events away from any true event
    idle_minutes: float = 0.0
    confusion: dict = field(default_factory=dict)  # "true->detected" counts, "-" = none
    by_class: dict = field(default_factory=dict)  # gesture -> [tp, fp, fn]

    def add(self, other: EventScore) -> EventScore:
        conf = dict(self.confusion)
        for k, v in other.confusion.items():
            conf[k] = conf.get(k, 0) + v
        by_class = {c: list(v) for c, v in self.by_class.items()}
        for c, v in other.by_class.items():
            by_class[c] = [a + b for a, b in zip(by_class.get(c, [0, 0, 0]), v, strict=True)]
        return EventScore(
            self.tp + other.tp,
            self.fp + other.fp,
            self.fn + other.fn,
            self.idle_fp + other.idle_fp,
            self.idle_minutes + other.idle_minutes,
            conf,
            by_class,
        )

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        denom = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / denom if denom else 1.0

    @property
    def false_per_idle_minute(self) -> float:
        return self.idle_fp / self.idle_minutes if self.idle_minutes else 0.0

    def class_f1(self, gesture: str) -> float | None:
        """Event F1 of one gesture (None when it neither occurs nor is detected)."""
        tp, fp, fn = self.by_class.get(gesture, (0, 0, 0))
        return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None

    def per_class(self) -> dict[str, dict]:
        """{gesture: {"f1", "tp", "fp", "fn"}} for every gesture seen or detected."""
        return {
            c: {"f1": round(self.class_f1(c), 4), "tp": tp, "fp": fp, "fn": fn}
            for c, (tp, fp, fn) in sorted(self.by_class.items())
        }

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("by_class")
        out.update(
            per_class=self.per_class(),
            precision=round(self.precision, 4),
            recall=round(self.recall, 4),
            f1=round(self.f1, 4),
            false_per_idle_minute=round(self.false_per_idle_minute, 4),
        )
        return out


def score_events(
    truth: list[Event],
    detected: list[Detection],
    tolerance_ms: int,
    duration_ms: int,
    ignore: list[tuple[int, int]] = (),
) -> EventScore:
    """Match detections to true events (see module doc); detections inside `ignore` intervals
    (unlabelled motion) count neither way."""
    detected = [d for d in detected if not any(lo <= d.t_ms <= hi for lo, hi in ignore)]
    used: set[int] = set()
    score = EventScore()
    conf: dict[str, int] = {}
    for e in truth:
        lo, hi = e.start_ms - tolerance_ms, e.end_ms + tolerance_ms
        near = [i for i, d in enumerate(detected) if lo <= d.t_ms <= hi and i not in used]
        hit = next((i for i in near if detected[i].gesture == e.gesture), None)
        if hit is None:
            score.fn += 1
            got = detected[near[0]].gesture if near else "-"
        else:
            used.add(hit)
            score.tp += 1
            got = e.gesture
        conf[f"{e.gesture}->{got}"] = conf.get(f"{e.gesture}->{got}", 0) + 1
    score.fp = len(detected) - len(used)
    by_class: dict[str, list[int]] = {}
    for i, d in enumerate(detected):
        by_class.setdefault(d.gesture, [0, 0, 0])[0 if i in used else 1] += 1
    for e in truth:
        by_class.setdefault(e.gesture, [0, 0, 0])
    for key, n in conf.items():
        true, got = key.split("->")
        if true != got:
            by_class[true][2] += n
    score.by_class = by_class
    windows = [(e.start_ms - tolerance_ms, e.end_ms + tolerance_ms) for e in truth]
    for i, d in enumerate(detected):
        if i not in used and not any(lo <= d.t_ms <= hi for lo, hi in windows):
            score.idle_fp += 1
            conf[f"idle->{d.gesture}"] = conf.get(f"idle->{d.gesture}", 0) + 1
    busy = sum(min(hi, duration_ms) - max(lo, 0) for lo, hi in windows)
    score.idle_minutes = max(duration_ms - busy, 0) / 60000
    score.confusion = conf
    return score


def votes_threshold(threshold: float, scale: int) -> int:
    """The debouncer's threshold in votes: the fewest votes whose probability (votes / scale)
    is >= threshold, exactly, taking the threshold as the decimal it is written as (0.4 of
    2500 votes is 1000, although the float 0.4 is a hair above 2/5)."""
    return math.ceil(Fraction(repr(float(threshold))) * scale)


def debounce(
    classes: list[str], params: dict, ends: np.ndarray, scores: np.ndarray, scale: int
) -> list[Detection]:
    """Run the device's Debouncer over window class votes (ends = 100 Hz window end indices);
    its threshold in votes comes from params' probability threshold."""
    params = params | {"threshold_votes": votes_threshold(params["threshold"], scale)}
    deb = Debouncer(classes, params, scale)
    out = []
    for end, p in zip(ends.tolist(), scores.tolist(), strict=True):
        ev = deb.update(p, end)
        if ev:
            out.append(Detection(ev[0] * STEP_MS, ev[1], float(ev[2])))
    return out
