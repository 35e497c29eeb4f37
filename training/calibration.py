"""Calibrate the debouncer on validation streams: pick the parameters users feel best.

The time offset comes first (detections should land on the middle of the true event); then a
grid over threshold, run length, gap and refractory time is scored by event F1, smoothed over
neighbouring thresholds and run lengths so the choice does not sit on a knife edge.
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
    """A stream with the model's window probabilities at the device's inference positions."""

    stream: Stream
    ends: np.ndarray
    proba: np.ndarray


def evaluate(
    scored: list[ScoredStream], classes: list[str], params: dict, tolerance_ms: int
) -> EventScore:
    total = EventScore()
    for s in scored:
        detections = debounce(classes, params, s.ends, s.proba)
        st = s.stream
        total = total.add(
            score_events(st.events, detections, tolerance_ms, st.duration_ms, st.ignore)
        )
    return total


def time_offset(scored: list[ScoredStream], classes: list[str], base: dict) -> int:
    """Samples between the mean window end of a run and the middle of the event it found."""
    gaps = []
    for s in scored:
        for d in debounce(classes, base | {"time_offset": 0}, s.ends, s.proba):
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
) -> tuple[dict, EventScore]:
    """Best debouncer parameters on the scored streams and their score there."""
    thresholds, hits = grid["threshold"], grid["min_hits"]
    refractory = [max(0, round(r * 1000 / hop_ms)) for r in grid["refractory_s"]]
    base = {"threshold": 0.5, "min_hits": 2, "max_gap": 1, "refractory": refractory[-1]}
    offset = time_offset(scored, classes, base)
    results: dict[tuple, tuple[dict, EventScore]] = {}
    for t, m, g, r in itertools.product(thresholds, hits, grid["max_gap"], refractory):
        params = {"threshold": t, "min_hits": m, "max_gap": g, "refractory": r}
        params["time_offset"] = offset
        results[(t, m, g, r)] = (params, evaluate(scored, classes, params, tolerance_ms))

    def smoothed(key: tuple) -> float:
        t, m, g, r = key
        ti, mi = thresholds.index(t), hits.index(m)
        near = [
            results[(thresholds[a], hits[b], g, r)][1].f1
            for a in range(max(ti - 1, 0), min(ti + 2, len(thresholds)))
            for b in range(max(mi - 1, 0), min(mi + 2, len(hits)))
        ]
        return results[key][1].f1 + float(np.mean(near))

    best = max(results, key=lambda k: (smoothed(k), -results[k][1].idle_fp, k[1], k[0]))
    return results[best]
