"""The real seed windows (../shared/data/seed-imu): load, recover event groups, rebuild 100 Hz.

Each labelled event appears many times as 1-second windows shifted in 10 ms steps. Copies whose
shifts differ by a multiple of 5 (50 ms, one 20 Hz step) share samples exactly; copies one shift
apart are consecutive 100 Hz samples of the same motion and are linked by a one-to-one matching
of the nearest copy. Windows sharing any sample lie on one time axis, which turns each group
(the split unit) into a short 100 Hz recording with its labelled events.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

SEED_FILE = "20210529_v2_data_all_20hz.csv"
SEED_POINTS = 21
IDLE_SHIFT = -99
LABEL_NAMES = ("idle", "x", "y", "circle")  # seed label k -> class name
SCALE = np.array([1.0, 1.0, 1.0, 10.0, 10.0, 10.0]) ** -1  # gyro deg/s weighs like acc m/s^2


def default_seed_dir() -> Path:
    """`../shared/data/seed-imu` beside the repository, or GESTURE_SEED_DATA."""
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "seed-imu"
    return Path(os.environ.get("GESTURE_SEED_DATA", default))


@dataclass
class SeedWindows:
    """Rows of the 20 Hz seed CSV: windows (n x 21 x 6, SI), shift (10 ms steps), label (0..3)."""

    windows: np.ndarray
    shift: np.ndarray
    label: np.ndarray


@dataclass
class Timeline:
    """A group of overlapping seed windows as one 100 Hz recording (split unit)."""

    samples: np.ndarray  # m x 6 SI, 100 Hz
    group: int
    # (seed label, labelled start, first covered ms, last covered ms) per event, in timeline ms
    events: list[tuple[int, int, int, int]]
    rows: list[int]


def load_seed_windows(folder: Path | None = None) -> SeedWindows:
    """Read the 20 Hz seed CSV; clear error when it is missing or malformed."""
    path = Path(folder or default_seed_dir()) / SEED_FILE
    if not path.exists():
        raise FileNotFoundError(f"seed data not found: {path} (set GESTURE_SEED_DATA)")
    with path.open() as f:
        header = f.readline().strip().split(",")
    if header[-2:] != ["shift", "label"] or len(header) != SEED_POINTS * 6 + 2:
        raise ValueError(f"{path.name}: expected {SEED_POINTS} x 6 signals + shift,label")
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    windows = data[:, :-2].reshape(len(data), SEED_POINTS, 6)
    return SeedWindows(windows, data[:, -2].astype(int), data[:, -1].astype(int))


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)

    def components(self) -> list[list[int]]:
        comps: dict[int, list[int]] = defaultdict(list)
        for i in range(len(self.parent)):
            comps[self.find(i)].append(i)
        return list(comps.values())


def _shared_samples(seed: SeedWindows) -> list[tuple[int, int, int, int]]:
    """Pairs of (row, point, row, point) holding the identical 6-value sample."""
    owners: dict[bytes, list[tuple[int, int]]] = defaultdict(list)
    for i, window in enumerate(seed.windows):
        for k, sample in enumerate(window):
            owners[sample.tobytes()].append((i, k))
    return [(*first, *other) for lst in owners.values() for first in lst[:1] for other in lst[1:]]


def _link_neighbour_shifts(seed: SeedWindows, uf: _UnionFind) -> None:
    """Link each copy at shift s to the nearest copy at shift s+1 of the same label."""
    for label in np.unique(seed.label):
        for s in range(-5, 5):
            a = np.flatnonzero((seed.label == label) & (seed.shift == s))
            b = np.flatnonzero((seed.label == label) & (seed.shift == s + 1))
            if not len(a) or not len(b):
                continue
            wa, wb = seed.windows[a] * SCALE, seed.windows[b] * SCALE
            cost = np.abs(wa[:, None] - wb[None, :]).mean(axis=(2, 3))
            if label == 0:  # handling pieces are too alike to pair reliably; groups still join
                continue
            for i, j in zip(*linear_sum_assignment(cost), strict=True):
                uf.union(int(a[i]), int(b[j]))


def _event_links(seed: SeedWindows) -> _UnionFind:
    """Rows that are copies of one labelled event (same label, same time, or neighbour shift)."""
    events = _UnionFind(len(seed.label))
    for i, ki, j, kj in _shared_samples(seed):
        same_time = seed.shift[i] * 10 + ki * 50 == seed.shift[j] * 10 + kj * 50
        if seed.label[i] == seed.label[j] and seed.shift[i] != IDLE_SHIFT and same_time:
            events.union(i, j)
    _link_neighbour_shifts(seed, events)
    return events


def _row_starts(seed: SeedWindows, event_rows: list[list[int]]) -> tuple[dict[int, int], list]:
    """Start time (ms) of every row on its group's time axis, and the groups' rows."""
    edges: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for i, ki, j, kj in _shared_samples(seed):
        edges[i].append((j, (ki - kj) * 50))
        edges[j].append((i, (kj - ki) * 50))
    for rows in event_rows:
        for r in rows[1:]:
            d = int(seed.shift[r] - seed.shift[rows[0]]) * 10
            edges[rows[0]].append((r, d))
            edges[r].append((rows[0], -d))
    start: dict[int, int] = {}
    groups = []
    for root in range(len(seed.label)):
        if root in start:
            continue
        start[root], stack, members = 0, [root], [root]
        while stack:
            a = stack.pop()
            for b, d in edges[a]:
                if b not in start:
                    start[b] = start[a] + d
                    stack.append(b)
                    members.append(b)
        groups.append(sorted(members))
    return start, groups


def recover_timelines(seed: SeedWindows) -> list[Timeline]:
    """Each group of overlapping windows laid on one 100 Hz time axis, with its events."""
    uf = _event_links(seed)
    event_rows = [rows for rows in uf.components() if seed.shift[rows[0]] != IDLE_SHIFT]
    start, groups = _row_starts(seed, event_rows)
    event_of = {r: k for k, rows in enumerate(event_rows) for r in rows}
    timelines = []
    for g, rows in enumerate(groups):
        values: dict[int, np.ndarray] = {}
        for r in rows:
            for k in range(SEED_POINTS):
                values.setdefault(start[r] + 50 * k, seed.windows[r, k])
        known = np.array(sorted(values))
        grid = np.arange(known[0], known[-1] + 10, 10)
        table = np.array([values[t] for t in known])
        samples = np.stack([np.interp(grid, known, table[:, s]) for s in range(6)], axis=1)
        events = []
        for k in sorted({event_of[r] for r in rows if r in event_of}):
            members = event_rows[k]
            zero = start[members[0]] - int(seed.shift[members[0]]) * 10  # labelled event start
            lo = min(start[r] for r in members)
            hi = max(start[r] for r in members) + 1000
            events.append((int(seed.label[members[0]]), zero - grid[0], lo - grid[0], hi - grid[0]))
        timelines.append(Timeline(samples, g, events, rows))
    return timelines
