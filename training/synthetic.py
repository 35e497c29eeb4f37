"""Deterministic synthetic IMU recordings: gestures (SHAPES), idle and handling.

Physically plausible continuous 100 Hz streams in SI units (m/s^2, deg/s), gravity on +z with a
small tilt, sensor noise and gyro bias, saturation at +-2 g / +-250 deg/s and quantisation to the
MPU6500's int16 counts, plus ground-truth events. Same seed -> identical recording.
Shapes follow the real seed data: X/Y are a 400-600 ms push-and-stop along one axis (about +-2 g),
circles an 800-1000 ms loop with large rotation on every axis; a shake (not in the seed data, the
demo's new gesture) is 3-4 quick back-and-forth strokes along y with a wrist roll; picking the
device up and putting it down tilts it, with a tremor while held and a small impact when it lands
(no event). Which gestures a recording holds is a parameter; DEFAULT_GESTURES are the seed data's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gesture import units

from training.rawunits import quantise
from training.recordings import CAPTURE_HZ, STEP_MS, Event, write_recording

ACC_NOISE = 0.08  # m/s^2, idle sensor noise
GYRO_NOISE = 0.3  # deg/s


def _push(u: np.ndarray, rng: np.random.Generator, axis: int) -> np.ndarray:
    """X or Y move: accelerate then brake along `axis`, with cross-talk and a little yaw."""
    sig = np.zeros((len(u), 6))
    amp = rng.uniform(14.0, 26.0)
    sig[:, axis] = amp * np.sin(2 * np.pi * u) * (1 + 0.15 * np.sin(np.pi * u))
    sig[:, 1 - axis] = rng.uniform(0.05, 0.2) * amp * np.sin(2 * np.pi * u + rng.uniform(0, 1))
    sig[:, 2] = rng.uniform(0.3, 1.5) * np.sin(4 * np.pi * u)
    sig[:, 5] = rng.uniform(30.0, 90.0) * np.sin(2 * np.pi * u + rng.uniform(-0.5, 0.5))
    sig[:, 3 + axis] = rng.uniform(2.0, 10.0) * np.sin(2 * np.pi * u)
    return sig


def _circle(u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Circle: a loop of 1.2-1.6 turns, large acceleration and rotation on every axis."""
    turns = rng.uniform(1.2, 1.6)
    env = np.sin(np.pi * u) ** 0.7
    phase = 2 * np.pi * turns * u
    amps = (rng.uniform(16, 24), rng.uniform(6, 12), rng.uniform(10, 16))
    amps += (rng.uniform(130, 220), rng.uniform(90, 160), rng.uniform(150, 230))
    offsets = np.array([0.0, 1.3, 2.2, -0.4, 1.9, 0.9]) + rng.normal(0, 0.2, 6)
    return np.stack(
        [a * env * np.sin(phase + o) for a, o in zip(amps, offsets, strict=True)], axis=1
    )


def _shake(u: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shake: 3-4 fast strokes back and forth along y, the wrist rolling with them."""
    cycles = rng.uniform(3.0, 4.0)
    env = np.sin(np.pi * u) ** 0.5
    phase = 2 * np.pi * cycles * u
    sig = np.zeros((len(u), 6))
    sig[:, 1] = rng.uniform(12.0, 18.0) * env * np.sin(phase)
    sig[:, 0] = rng.uniform(1.0, 3.0) * env * np.sin(phase + rng.uniform(0, 1))
    sig[:, 2] = rng.uniform(0.5, 2.0) * env * np.sin(2 * phase)
    sig[:, 3] = rng.uniform(120.0, 200.0) * env * np.cos(phase)
    sig[:, 5] = rng.uniform(10.0, 40.0) * env * np.cos(phase + rng.uniform(0, 1))
    return sig


def _x(u, rng):
    return _push(u, rng, 0)


def _y(u, rng):
    return _push(u, rng, 1)


# gesture -> (shape of the motion, duration range in s)
SHAPES = {
    "circle": (_circle, (0.8, 1.0)),
    "x": (_x, (0.4, 0.6)),
    "y": (_y, (0.4, 0.6)),
    "shake": (_shake, (0.6, 0.9)),
}
DEFAULT_GESTURES = ("circle", "x", "y")  # the seed data's gestures


def _tilt(n: int, rng: np.random.Generator, up: bool) -> tuple[np.ndarray, np.ndarray]:
    """Smooth tilt angle (deg) about x and y over n samples, and its rate (deg/s)."""
    target = rng.uniform(15, 55) * rng.choice([-1, 1], 2) * rng.uniform(0.3, 1.0, 2)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.linspace(0, 1, n))
    ramp = ramp if up else 1 - ramp
    angle = ramp[:, None] * target[None, :]
    rate = np.gradient(angle, axis=0) * CAPTURE_HZ
    return angle, rate


def _handling(n_move: int, n_hold: int, rng: np.random.Generator) -> np.ndarray:
    """Pick up, hold with tremor, put down; columns: tilt x, tilt y (deg) then 6 extra signals."""
    up_angle, up_rate = _tilt(n_move, rng, up=True)
    hold_angle = np.repeat(up_angle[-1:], n_hold, axis=0) + np.cumsum(
        rng.normal(0, 0.08, (n_hold, 2)), axis=0
    )
    down_angle, down_rate = _tilt(n_move, rng, up=False)
    down_angle = down_angle * (hold_angle[-1] / up_angle[-1])
    angle = np.concatenate([up_angle, hold_angle, down_angle])
    extra = np.zeros((len(angle), 6))
    extra[:n_move, 2] = 3.0 * np.sin(np.pi * np.linspace(0, 1, n_move))  # lift
    extra[:n_move, 3:5] = up_rate
    extra[n_move : n_move + n_hold, :3] = rng.normal(0, 0.35, (n_hold, 3))
    extra[n_move : n_move + n_hold, 3:] = rng.normal(0, 3.0, (n_hold, 3))
    extra[n_move + n_hold :, 3:5] = down_rate * (hold_angle[-1] / up_angle[-1])
    extra[-3:, 2] += rng.uniform(3, 8) * np.array([1.0, -0.6, 0.3])  # landing impact
    return np.concatenate([angle, extra], axis=1)


def _gravity(tilt_deg: np.ndarray) -> np.ndarray:
    """Gravity in sensor coordinates for tilt angles (deg) about x and y (N x 3)."""
    tx, ty = np.radians(tilt_deg[:, 0]), np.radians(tilt_deg[:, 1])
    return units.G * np.stack([-np.sin(ty), np.sin(tx) * np.cos(ty), np.cos(tx) * np.cos(ty)], 1)


def generate_recording(
    seed: int,
    duration_s: float = 60.0,
    *,
    gestures: tuple[str, ...] = DEFAULT_GESTURES,
    handling: bool = True,
    gap_s: tuple[float, float] = (1.5, 4.0),
) -> tuple[np.ndarray, list[Event]]:
    """A continuous 100 Hz recording (N x 7: 6 SI signals + ms) and its true gesture events."""
    if duration_s < 2.0:
        raise ValueError("duration_s must be at least 2 seconds")
    unknown = set(gestures) - set(SHAPES)
    if unknown or not (gestures or handling):
        raise ValueError(f"gestures must be a subset of {tuple(SHAPES)}, got {gestures}")
    rng = np.random.default_rng(seed)
    n = round(duration_s * CAPTURE_HZ)
    base_tilt = rng.normal(0, 2.0, 2)
    tilt = np.repeat(base_tilt[None, :], n, axis=0)
    motion = np.zeros((n, 6))
    events: list[Event] = []
    i = int(rng.uniform(*gap_s) * CAPTURE_HZ)
    handled_last = False
    while True:
        if handling and (not gestures or (not handled_last and rng.random() < 0.2)):
            handled_last = True
            n_move, n_hold = int(rng.uniform(0.6, 1.2) * CAPTURE_HZ), int(rng.uniform(1, 3) * 100)
            if i + 2 * n_move + n_hold >= n - 50:
                break
            h = _handling(n_move, n_hold, rng)
            span = slice(i, i + len(h))
            tilt[span] += h[:, :2]
            motion[span] += h[:, 2:]
            i += len(h)
        else:
            handled_last = False
            gesture = gestures[rng.integers(len(gestures))]
            shape_of, durations = SHAPES[gesture]
            m = int(rng.uniform(*durations) * CAPTURE_HZ)
            if i + m >= n - 50:
                break
            u = np.arange(m) / (m - 1)
            motion[i : i + m] += shape_of(u, rng)
            events.append(Event(i * STEP_MS, (i + m - 1) * STEP_MS, gesture))
            i += m
        i += int(rng.uniform(*gap_s) * CAPTURE_HZ)
    bias = np.concatenate([np.zeros(3), rng.normal(0, 1.0, 3)])
    noise = rng.normal(0, 1, (n, 6)) * np.array([ACC_NOISE] * 3 + [GYRO_NOISE] * 3)
    acc_gyro = np.concatenate([_gravity(tilt), np.zeros((n, 3))], 1) + motion + bias + noise
    ms = np.arange(n, dtype=float)[:, None] * STEP_MS
    return np.concatenate([quantise(acc_gyro), ms], axis=1), events


def generate_dataset(
    folder: Path, seed: int = 0, count: int = 4, duration_s: float = 60.0, **kwargs
) -> list[Path]:
    """Write `count` recordings (with labels) to a folder; recording k uses seed `seed + k`."""
    paths = []
    for k in range(count):
        samples, events = generate_recording(seed + k, duration_s, **kwargs)
        paths.append(
            write_recording(Path(folder) / f"synthetic-{seed + k:04d}.csv", samples, events)
        )
    return paths
