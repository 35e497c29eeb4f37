"""Calibrate the debouncer on validation streams: pick the parameters users feel best.

The time offset comes first, per run length (detections should land on the middle of the true
event); then a grid over threshold, run length, gap and refractory time is scored by event F1
and the centre of the near-best region is chosen, so the choice does not sit on a knife edge.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from training.evaluation import EventScore, debounce, score_events
from training.recordings import STEP_MS
from training.streams import Stream


@dataclass
class ScoredStream:
    """A stream with the model's class votes at the device's inference positions (`scale`
    votes = probability 1)."""

    stream: Stream
    ends: np.ndarray
    scores: np.ndarray
    scale: int


def evaluate(
    scored: list[ScoredStream], classes: list[str], params: dict, tolerance_ms: int
) -> EventScore:
    total = EventScore()
    for s in scored:
        detections = debounce(classes, params, s.ends, s.scores, s.scale)
        st = s.stream
        total = total.add(
            score_events(st.events, detections, tolerance_ms, st.duration_ms, st.ignore)
        )
    return total


def time_offset(scored: list[ScoredStream], classes: list[str], base: dict) -> int:
    """Samples between the mean window end of a run and the middle of the event it found."""
    gaps = []
    for s in scored:
        for d in debounce(classes, base | {"time_offset": 0}, s.ends, s.scores, s.scale):
            mids = [(e.start_ms + e.end_ms) / 2 for e in s.stream.events]
            if mids:
                nearest = min(mids, key=lambda m: abs(m - d.t_ms))
                if abs(nearest - d.t_ms) < 1500:
                    gaps.append((d.t_ms - nearest) / STEP_MS)
    return round(float(np.median(gaps))) if gaps else 0


def calibrate(
    scored: list[ScoredStream],
    classes: list[str],
    grid: dict,
    hop_ms: int,
    tolerance_ms: int,
    margin: float = 0.01,
) -> tuple[dict, EventScore]:
    """Debouncer parameters for the scored streams and their score there.

    Every combination is scored; those within `margin` of the best F1 form the good region,
    and the choice is its centre (median run length, then threshold, then gap), not its edge:
    the region's edges are where unseen data tips over.
    """
    thresholds, hits = sorted(grid["threshold"]), sorted(grid["min_hits"])
    refractory = [max(0, round(r * 1000 / hop_ms)) for r in grid["refractory_s"]]
    offsets = {
        m: time_offset(scored, classes, {"threshold": 0.5, "min_hits": m, "max_gap": 1,
                                         "refractory": refractory[-1]})
        for m in hits
    }  # fmt: skip
    results: dict[tuple, tuple[dict, EventScore]] = {}
    for t, m, g, r in itertools.product(thresholds, hits, grid["max_gap"], refractory):
        params = {"threshold": t, "min_hits": m, "max_gap": g, "refractory": r}
        params["time_offset"] = offsets[m]
        results[(t, m, g, r)] = (params, evaluate(scored, classes, params, tolerance_ms))
    top = max(s.f1 for _, s in results.values())
    good = [k for k, (_, s) in results.items() if s.f1 >= top - margin]
    m = _median([k[1] for k in good])
    t = _median([k[0] for k in good if k[1] == m])
    g = _median([k[2] for k in good if k[:2] == (t, m)])
    pick = max((k for k in good if k[:3] == (t, m, g)), key=lambda k: (results[k][1].f1, -k[3]))
    return results[pick]


def _median(values: list) -> float | int:
    """The lower median of the values (always one of them)."""
    ordered = sorted(values)
    return ordered[(len(ordered) - 1) // 2]
