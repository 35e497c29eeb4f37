"""Vectorised `gesture.units` for host arrays: SI <-> int16 counts, bit-identical to the device."""

from __future__ import annotations

import numpy as np
from gesture import units

SI_PER_LSB = np.array(units.SI_PER_LSB)


def si_to_counts(si: np.ndarray) -> np.ndarray:
    """N x 6 SI (m/s^2 x3, deg/s x3) -> int16 counts, rounded half away from zero and clipped."""
    si = np.asarray(si, dtype=float)
    if np.isnan(si).any():
        raise ValueError("NaN sample")
    acc = si[..., :3] / units.G * units.ACC_LSB_PER_G
    gyro = si[..., 3:6] * units.GYRO_LSB_PER_DPS
    scaled = np.concatenate([acc, gyro], axis=-1)
    counts = np.trunc(scaled + np.copysign(0.5, scaled))
    return np.clip(counts, units.INT16_MIN, units.INT16_MAX).astype(np.int16)


def counts_to_si(counts: np.ndarray) -> np.ndarray:
    """int16 counts -> SI floats, as `gesture.units.raw_to_si`."""
    return np.asarray(counts, dtype=float) * SI_PER_LSB


def quantise(si: np.ndarray) -> np.ndarray:
    """SI values as the device would see them: through int16 counts and back."""
    return counts_to_si(si_to_counts(si))
