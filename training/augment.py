"""Training-only augmentation: the same gestures a little faster or slower, weaker or stronger.

Applied to training streams only (never to the streams a candidate is scored on). Speed resamples
the 100 Hz signal (events stretch with it); amplitude scales the motion around the resting value
(gravity stays); both then saturate and quantise like the sensor.
"""

from __future__ import annotations

import numpy as np
from gesture import units

from training.rawunits import quantise
from training.recordings import Event
from training.streams import Stream

LIMITS = np.array([2 * units.G] * 3 + [32767 / units.GYRO_LSB_PER_DPS] * 3)


def augment(
    stream: Stream,
    rng: np.random.Generator,
    speed: tuple[float, float],
    amplitude: tuple[float, float],
) -> Stream:
    """One randomly sped-up/slowed-down and scaled copy of a stream."""
    f = rng.uniform(*speed)  # > 1: the motion takes longer
    a = rng.uniform(*amplitude)
    n = len(stream.samples)
    m = max(round(n * f), 2)
    src = np.linspace(0, n - 1, m)
    samples = np.stack([np.interp(src, np.arange(n), stream.samples[:, k]) for k in range(6)], 1)
    rest = np.median(samples, axis=0)
    samples = np.clip(rest + (samples - rest) * a, -LIMITS, LIMITS)
    events = [Event(round(e.start_ms * f), round(e.end_ms * f), e.gesture) for e in stream.events]
    ignore = [(round(lo * f), round(hi * f)) for lo, hi in stream.ignore]
    return Stream(stream.name + "-aug", quantise(samples), events, stream.group, ignore)


def augmented(streams: list[Stream], copies: int, speed, amplitude, seed: int) -> list[Stream]:
    """The streams followed by `copies` augmented copies of each."""
    rng = np.random.default_rng(seed)
    extra = [augment(s, rng, speed, amplitude) for _ in range(copies) for s in streams]
    return streams + extra
