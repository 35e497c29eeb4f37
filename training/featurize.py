"""Host-side windows and integer features, vectorised; equal to `gesture.features` on the device.

A model config fixes the rate (decimation of the 100 Hz stream), the window length, the signals
and the feature spec. Windows are cut at any 100 Hz end index (all decimation phases) for
training, and at the device's own positions for detection.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gesture.features import STATS, feature_names, std_shift
from gesture.units import SIGNALS

from training.rawunits import si_to_counts
from training.recordings import CAPTURE_HZ, STEP_MS, vocabulary
from training.streams import Stream


def classes_of(streams: list[Stream]) -> tuple[str, ...]:
    """The classes a model trained on these streams knows: idle, then their gestures sorted."""
    return vocabulary(e for s in streams for e in s.events)


@dataclass(frozen=True)
class WindowSpec:
    """What the device computes per window: rate, signals and feature spec."""

    rate_hz: int
    signals: tuple[str, ...]
    time_points: bool = True
    stats: tuple[str, ...] = ()
    hop: int = 1

    def __post_init__(self) -> None:
        if CAPTURE_HZ % self.rate_hz:
            raise ValueError(f"rate_hz must divide {CAPTURE_HZ}, got {self.rate_hz}")
        if not set(self.signals) <= set(SIGNALS) or not self.signals:
            raise ValueError(f"signals must be a non-empty subset of {SIGNALS}")
        if not set(self.stats) <= set(STATS):
            raise ValueError(f"stats must be a subset of {STATS}")

    @property
    def decimation(self) -> int:
        return CAPTURE_HZ // self.rate_hz

    @property
    def window(self) -> int:
        return self.rate_hz + 1  # 0..1000 ms inclusive, like the seed windows

    @property
    def features(self) -> dict:
        return {"time_points": self.time_points, "stats": list(self.stats)}

    def names(self) -> list[str]:
        return feature_names(self.features, list(self.signals), self.window, self.rate_hz)


def window_counts(counts: np.ndarray, ends: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """Raw counts of the windows ending at `ends` (100 Hz indices): n x window x 6."""
    offsets = spec.decimation * np.arange(-(spec.window - 1), 1)
    return counts[ends[:, None] + offsets[None, :]]


def isqrt(v: np.ndarray) -> np.ndarray:
    """`gesture.features.isqrt` of every element (int64, each below 2^52): floor(sqrt(v)),
    exact after one correction either way of the float square root."""
    v = np.maximum(v, 0)
    r = np.floor(np.sqrt(v.astype(np.float64))).astype(np.int64)
    r -= r * r > v
    r += (r + 1) * (r + 1) <= v
    return r


def features(windows: np.ndarray, spec: WindowSpec) -> np.ndarray:
    """Integer feature matrix (n x size, int64) of raw-count windows, in `gesture.features`
    order and units (sums and counts, see there): the device computes the same integers."""
    idx = [SIGNALS.index(s) for s in spec.signals]
    raw = windows[:, :, idx].astype(np.int64)
    parts = []
    if spec.time_points:
        parts.append(raw.reshape(len(raw), -1))
    if spec.stats:
        n = spec.window
        shifted = raw >> std_shift(n)
        total = shifted.sum(axis=1)
        values = {
            "mean": raw.sum(axis=1),
            "std": isqrt((shifted * shifted).sum(axis=1) - (total * total) // n),
            "min": raw.min(axis=1),
            "max": raw.max(axis=1),
            "absdiff": np.abs(np.diff(raw, axis=1)).sum(axis=1),
        }
        parts.append(np.stack([values[s] for s in spec.stats], axis=2).reshape(len(raw), -1))
    return np.concatenate(parts, axis=1)


def device_ends(n_samples: int, spec: WindowSpec) -> np.ndarray:
    """100 Hz indices where the device runs inference on a stream of n_samples."""
    first = (spec.window - 1 + spec.hop - 1) * spec.decimation  # as gesture.detector counts
    return np.arange(first, n_samples, spec.decimation * spec.hop)


def window_labels(
    stream: Stream,
    ends: np.ndarray,
    spec: WindowSpec,
    pos_min: float,
    neg_max: float,
    classes: tuple[str, ...],
) -> np.ndarray:
    """Index in `classes` per window (0 idle), or -1 when a gesture is only partly inside."""
    starts = ends - (spec.window - 1) * spec.decimation
    span = (spec.window - 1) * spec.decimation + 1
    labels = np.zeros(len(ends), dtype=int)
    for e in stream.events:
        a, b = e.start_ms // STEP_MS, e.end_ms // STEP_MS
        # the share of the gesture inside, or of the window for a gesture longer than it
        whole = min(b - a + 1, span)
        inside = np.clip(np.minimum(b, ends) - np.maximum(a, starts) + 1, 0, None) / whole
        labels[(inside > neg_max) & (inside < pos_min) & (labels == 0)] = -1
        labels[inside >= pos_min] = classes.index(e.gesture)
    for lo, hi in stream.ignore:
        a, b = lo // STEP_MS, hi // STEP_MS
        inside = np.clip(np.minimum(b, ends) - np.maximum(a, starts) + 1, 0, None) / (b - a + 1)
        labels[(inside > neg_max) & (labels == 0)] = -1
    return labels


def training_windows(
    streams: list[Stream],
    spec: WindowSpec,
    stride: int,
    pos_min: float,
    neg_max: float,
    classes: tuple[str, ...],
) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of windows at every `stride`-th 100 Hz end (ambiguous ones dropped)."""
    xs, ys = [], []
    first = (spec.window - 1) * spec.decimation
    for s in streams:
        if len(s.samples) <= first:
            continue
        ends = np.arange(first, len(s.samples), stride)
        labels = window_labels(s, ends, spec, pos_min, neg_max, classes)
        keep = labels >= 0
        xs.append(features(window_counts(si_to_counts(s.samples), ends[keep], spec), spec))
        ys.append(labels[keep])
    if not xs:
        raise ValueError("no stream is longer than one window")
    return np.concatenate(xs), np.concatenate(ys)
