"""Continuous 100 Hz streams with true events: built from the seed groups or read from recordings.

Everything downstream (training windows, validation, calibration, evaluation) works on streams, so
the model is trained and scored the way a device sees data: one window per model-rate step.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from training.labelstudio import events_for, read_export
from training.rawunits import quantise
from training.recordings import (
    LABELS_SUFFIX,
    STEP_MS,
    Event,
    labels_path_for,
    read_labels,
    read_recording,
    write_recording,
)
from training.seed_data import LABEL_NAMES, Timeline

JOIN_SAMPLES = 20  # 200 ms over which a join's offset fades out
ACC_ACTIVE = 2.5  # m/s^2 away from the resting value
GYRO_ACTIVE = 40.0  # deg/s
REST_NOISE = np.array([0.05, 0.05, 0.05, 0.3, 0.3, 0.3])  # sensor noise at rest (SI)


@dataclass
class Stream:
    """A continuous recording: N x 6 SI samples at 100 Hz, true events (ms), split group."""

    name: str
    samples: np.ndarray
    events: list[Event] = field(default_factory=list)
    group: str = ""
    ignore: list[tuple[int, int]] = field(default_factory=list)  # unlabelled motion (ms)

    @property
    def duration_ms(self) -> int:
        return len(self.samples) * STEP_MS


def activity(samples: np.ndarray) -> np.ndarray:
    """Per sample: clear motion (acc away from the resting value, or fast rotation)."""
    rest = np.median(samples, axis=0)
    acc = np.linalg.norm(samples[:, :3] - rest[:3], axis=1)
    gyro = np.linalg.norm(samples[:, 3:], axis=1)
    return (acc > ACC_ACTIVE) | (gyro > GYRO_ACTIVE)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last) index of each run of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def join(pieces: list[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """Concatenate sample arrays, fading out the jump at each join; returns offsets of pieces."""
    out, offsets, at = [], [], 0
    for piece in pieces:
        piece = piece.copy()
        if out:
            n = min(JOIN_SAMPLES, len(piece))
            delta = out[-1][-1] - piece[0]
            piece[:n] += delta[None, :] * np.linspace(1.0, 0.0, n)[:, None]
        out.append(piece)
        offsets.append(at)
        at += len(piece)
    return np.concatenate(out), offsets


def timeline_stream(t: Timeline) -> Stream:
    """A seed group as a stream: gesture events where their copies show motion. In a group
    with gestures, motion no labelled copy covers is marked `ignore` (it may be an unlabelled
    gesture); groups without gestures are handling and idle, kept as negatives."""
    active = activity(t.samples)
    n = len(t.samples)
    covered = np.zeros(n, dtype=bool)
    events = []
    for label, _zero, lo, hi in t.events:
        a, b = max(lo // STEP_MS, 0), min(hi // STEP_MS, n - 1)
        covered[a : b + 1] = True
        moving = np.flatnonzero(active[a : b + 1])
        if label and len(moving):
            start, end = (a + moving[0]) * STEP_MS, (a + moving[-1]) * STEP_MS
            events.append(Event(int(start), int(end), LABEL_NAMES[label]))
    loose = _runs(active & ~covered) if events else []
    ignore = [(a * STEP_MS, b * STEP_MS) for a, b in loose if b - a >= 3]
    return Stream(f"seed-group-{t.group:03d}", quantise(t.samples), events, str(t.group), ignore)


def seed_streams(timelines: list[Timeline]) -> list[Stream]:
    """One stream per seed group."""
    return [timeline_stream(t) for t in timelines]


def labelled_recordings(folder: Path) -> list[tuple[Path, list[Event]]]:
    """Recordings in a folder with their events: from `<stem>.labels.csv`, else from a Label
    Studio JSON export in the same folder. Recordings without labels are left out."""
    folder = Path(folder)
    exported: dict[str, list[Event]] = {}
    for path in sorted(folder.glob("*.json")):
        exported |= read_export(path)
    out = []
    for path in sorted(folder.glob("*.csv")):
        if path.name.endswith(LABELS_SUFFIX):
            continue
        if labels_path_for(path).exists():
            out.append((path, read_labels(labels_path_for(path))))
        elif (events := events_for(path, exported)) is not None:
            out.append((path, events))
    return out


def recording_streams(folder: Path, chunk_s: float = 30.0) -> list[Stream]:
    """Labelled recordings in a folder, cut into chunks (split groups) between events."""
    streams = []
    for path, events in labelled_recordings(folder):
        samples = read_recording(path)
        whole = Stream(path.stem, quantise(samples[:, :6]), events, path.stem)
        streams.extend(chunk(whole, chunk_s))
    return streams


def chunk(stream: Stream, chunk_s: float) -> list[Stream]:
    """Cut a stream into pieces of about chunk_s seconds, never inside an event; each piece is
    its own split group (pieces of one recording share a session, not events)."""
    n, step = len(stream.samples), int(chunk_s * 1000 / STEP_MS)
    cuts, at = [0], step
    while at < n - step // 2:
        inside = [
            e for e in stream.events if e.start_ms // STEP_MS <= at <= e.end_ms // STEP_MS + 1
        ]
        at = max([e.end_ms // STEP_MS + 2 for e in inside], default=at)
        cuts.append(at)
        at += step
    cuts.append(n)
    pieces = []
    for k, (a, b) in enumerate(itertools.pairwise(cuts)):
        if b - a < 10:
            continue
        events = [
            Event(e.start_ms - a * STEP_MS, e.end_ms - a * STEP_MS, e.gesture)
            for e in stream.events
            if a * STEP_MS <= e.start_ms and e.end_ms < b * STEP_MS
        ]
        name = f"{stream.name}#{k}"
        pieces.append(Stream(name, stream.samples[a:b], events, name))
    return pieces


def rest_gap(after: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n samples of the device at rest where `after` ends: its last value plus sensor noise."""
    return after[-1][None, :] + rng.normal(0, 1, (n, 6)) * REST_NOISE


def concatenate(
    streams: list[Stream],
    name: str,
    max_s: float = 120.0,
    gap_s: tuple[float, float] = (0.0, 0.0),
    seed: int = 0,
) -> list[Stream]:
    """Join streams (in the given order) into fewer, longer streams of at most about max_s,
    with the device resting for gap_s seconds between them (gestures rarely come back to back)."""
    rng = np.random.default_rng(seed)
    out, batch, length = [], [], 0
    for s in streams:
        if batch and gap_s[1] > 0:
            n = int(rng.uniform(*gap_s) * 1000 / STEP_MS)
            batch.append(Stream("rest", rest_gap(batch[-1].samples, n, rng), group=""))
        batch.append(s)
        length += len(s.samples)
        if length * STEP_MS >= max_s * 1000:
            out.append(_join_streams(batch, f"{name}-{len(out):02d}"))
            batch, length = [], 0
    if batch:
        out.append(_join_streams(batch, f"{name}-{len(out):02d}"))
    return out


def _join_streams(batch: list[Stream], name: str) -> Stream:
    samples, offsets = join([s.samples for s in batch])
    events = [
        Event(e.start_ms + o * STEP_MS, e.end_ms + o * STEP_MS, e.gesture)
        for s, o in zip(batch, offsets, strict=True)
        for e in s.events
    ]
    ignore = [
        (a + o * STEP_MS, b + o * STEP_MS)
        for s, o in zip(batch, offsets, strict=True)
        for a, b in s.ignore
    ]
    group = "+".join(sorted({s.group for s in batch if s.group}))
    return Stream(name, quantise(samples), events, group, ignore)


def split_groups(
    streams: list[Stream], fractions: dict[str, float], seed: int
) -> dict[str, list[Stream]]:
    """Assign whole groups to splits, stratified by each group's main gesture (or idle)."""
    groups: dict[str, list[Stream]] = {}
    for s in streams:
        groups.setdefault(s.group, []).append(s)
    rng = np.random.default_rng(seed)
    strata: dict[str, list[str]] = {}
    for g, members in sorted(groups.items()):
        kinds = sorted(e.gesture for s in members for e in s.events)
        strata.setdefault(kinds[len(kinds) // 2] if kinds else "idle", []).append(g)
    names = list(fractions)
    bounds = np.cumsum([fractions[n] for n in names]) / sum(fractions.values())
    ordered = [g for _, keys in sorted(strata.items()) for g in rng.permutation(keys)]
    out: dict[str, list[Stream]] = {n: [] for n in names}
    for i, g in enumerate(ordered):  # walking strata in turn spreads each over every split
        split = names[int(np.searchsorted(bounds, ((i * 0.618034) % 1.0)))]
        out[split].extend(groups[g])
    return out


def write_streams(folder: Path, streams: list[Stream]) -> list[Path]:
    """Write streams as recordings with labels (the intermediate layer, readable by `detect`)."""
    paths = []
    for s in streams:
        ms = np.arange(len(s.samples), dtype=float)[:, None] * STEP_MS
        path = Path(folder) / f"{s.name.replace('#', '_')}.csv"
        paths.append(write_recording(path, np.concatenate([s.samples, ms], axis=1), s.events))
    return paths
