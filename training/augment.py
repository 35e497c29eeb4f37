"""Training-only augmentation: the same gestures a little faster or slower, weaker or stronger,
and with the device held at a slightly different orientation.

Applied to training streams only (never to the streams a candidate is scored on). Speed resamples
the 100 Hz signal (events stretch with it); amplitude scales the motion around the resting value
(gravity stays); rotation turns acc and gyro, as 3-vectors, by one small random rotation (a
random axis, an angle up to `rotation_deg`), so gravity and the motion axes tilt together; all
then saturate and quantise like the sensor.
"""

from __future__ import annotations

import numpy as np
from gesture import units

from training.rawunits import quantise
from training.recordings import Event
from training.streams import Stream

LIMITS = np.array([2 * units.G] * 3 + [32767 / units.GYRO_LSB_PER_DPS] * 3)
ROTATION_STREAM = 1  # the rotation draws come from their own generator: seed + this


def rotation_matrix(axis, degrees: float) -> np.ndarray:
    """3 x 3 rotation by `degrees` about `axis` (Rodrigues)."""
    k = np.asarray(axis, dtype=float)
    k = k / np.linalg.norm(k)
    t = np.radians(degrees)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + np.sin(t) * kx + (1 - np.cos(t)) * kx @ kx


def random_rotation(rng: np.random.Generator, max_degrees: float) -> np.ndarray:
    """A rotation about a uniformly random axis by an angle uniform in [0, max_degrees]."""
    axis = rng.normal(size=3)
    return rotation_matrix(axis, rng.uniform(0.0, max_degrees))


def rotate(samples: np.ndarray, r: np.ndarray) -> np.ndarray:
    """N x 6 samples with acc (columns 0-2) and gyro (3-5) both rotated by r (no clipping)."""
    return np.concatenate([samples[:, :3] @ r.T, samples[:, 3:6] @ r.T], axis=1)


def saturate(samples: np.ndarray) -> np.ndarray:
    """Clip to the sensor's ranges (+-2 g, +-250 dps) and quantise through int16 counts."""
    return quantise(np.clip(samples, -LIMITS, LIMITS))


def augment(
    stream: Stream,
    rng: np.random.Generator,
    speed: tuple[float, float],
    amplitude: tuple[float, float],
    rotation: np.ndarray | None = None,
) -> Stream:
    """One randomly sped-up/slowed-down, scaled (and, given `rotation`, rotated) copy."""
    f = rng.uniform(*speed)  # > 1: the motion takes longer
    a = rng.uniform(*amplitude)
    n = len(stream.samples)
    m = max(round(n * f), 2)
    src = np.linspace(0, n - 1, m)
    samples = np.stack([np.interp(src, np.arange(n), stream.samples[:, k]) for k in range(6)], 1)
    rest = np.median(samples, axis=0)
    samples = rest + (samples - rest) * a
    if rotation is not None:
        samples = rotate(samples, rotation)
    events = [Event(round(e.start_ms * f), round(e.end_ms * f), e.gesture) for e in stream.events]
    ignore = [(round(lo * f), round(hi * f)) for lo, hi in stream.ignore]
    return Stream(stream.name + "-aug", saturate(samples), events, stream.group, ignore)


def augmented(
    streams: list[Stream],
    copies: int,
    speed,
    amplitude,
    seed: int,
    rotation_deg: float = 0.0,
    rotated_copies: int = 0,
) -> list[Stream]:
    """The streams (untouched), `copies` sped/scaled copies of each, then `rotated_copies`
    copies of each that are also turned by a random rotation of at most `rotation_deg`."""
    rng = np.random.default_rng(seed)
    extra = [augment(s, rng, speed, amplitude) for _ in range(copies) for s in streams]
    turn = np.random.default_rng(seed + ROTATION_STREAM)  # its own draws: copies stay as they were
    for _ in range(rotated_copies if rotation_deg > 0 else 0):
        for s in streams:
            extra.append(augment(s, turn, speed, amplitude, random_rotation(turn, rotation_deg)))
    return streams + extra


def held_differently(
    samples: np.ndarray, seed: int, degrees: tuple[float, float], noise_si
) -> np.ndarray:
    """A recording (N x 6 SI) as a device held differently would give it: turned about a random
    axis by an angle in `degrees`, with extra sensor noise (sd per signal), saturated."""
    rng = np.random.default_rng(seed)
    r = rotation_matrix(rng.normal(size=3), rng.uniform(*degrees))
    noisy = rotate(samples, r) + rng.normal(size=samples.shape) * np.asarray(noise_si)
    return saturate(noisy)
