"""Clip folders: labelled clips of any device, as streams the device would have recorded.

    DIR/<gesture>/<anything>.csv   one folder per class, named as the class ([a-z][a-z0-9_]{0,31});
                                   a folder named idle holds clips of non-gesture motion
    columns acc_x,acc_y,acc_z (m/s^2), gyro_x,gyro_y,gyro_z (deg/s), ms (from the clip's start)

Each CSV is one clip: one gesture (its motion becomes the event) or idle motion. A steady rate of
50-200 Hz (read from `ms`) is resampled to the device's 100 Hz (averaged over the source samples
first when it is faster), and values are clipped to the device's sensor ranges and quantised as
the device would see them. Every clip is its own split group, so whole clips are held out.
Without an idle folder, negatives are made from the clips' own quiet parts and from synthesized
handling; `notes` say which (the report shows them).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from training.augment import saturate
from training.recordings import (
    CAPTURE_HZ,
    COLUMNS,
    IDLE,
    STEP_MS,
    Event,
    RecordingError,
    is_gesture_name,
)
from training.streams import Stream, activity

MIN_HZ, MAX_HZ = 50, 200
MAX_JITTER = 0.5  # a step may differ this much (fraction) from the median step
QUIET_MARGIN_MS = 300  # quiet parts keep this far from the gesture's motion
MIN_QUIET_MS = 1200  # shorter quiet parts are not worth a negative group
SYNTHETIC_IDLE_SEED = 7_000


def class_folders(folder: Path) -> dict[str, list[Path]]:
    """{class name: its clip CSVs} for every subfolder that is a class (gesture or idle)."""
    out = {}
    for sub in sorted(p for p in Path(folder).iterdir() if p.is_dir()):
        clips = sorted(sub.glob("*.csv"))
        if clips and (sub.name == IDLE or is_gesture_name(sub.name)):
            out[sub.name] = clips
    return out


def is_clip_folder(folder: Path) -> bool:
    """A folder of class subfolders holding CSVs (and no recordings of its own)."""
    folder = Path(folder)
    return folder.is_dir() and not any(folder.glob("*.csv")) and bool(class_folders(folder))


def read_clip(path: Path) -> np.ndarray:
    """One clip as N x 6 SI samples at 100 Hz within the device's ranges; RecordingError if the
    file is malformed or its rate is not a steady 50-200 Hz."""
    path = Path(path)
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = [h.strip() for h in next(reader, [])]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise RecordingError(f"{path.name}: missing columns {missing} (need {COLUMNS})")
        index = [header.index(c) for c in COLUMNS]
        try:
            rows = [[float(row[i]) for i in index] for row in reader if row]
        except (ValueError, IndexError) as exc:
            raise RecordingError(f"{path.name}: bad row ({exc})") from None
    data = np.asarray(rows, dtype=float).reshape(-1, len(COLUMNS))
    if len(data) < 10 or not np.all(np.isfinite(data)):
        raise RecordingError(f"{path.name}: fewer than 10 rows, or NaN/inf values")
    return resample(data[:, :6], data[:, 6], path.name)


def resample(values: np.ndarray, ms: np.ndarray, name: str = "clip") -> np.ndarray:
    """Values sampled at times ms (steady 50-200 Hz) on the device's 100 Hz grid, saturated."""
    steps = np.diff(ms)
    if np.any(steps <= 0):
        raise RecordingError(f"{name}: ms must increase")
    step = float(np.median(steps))
    rate = 1000.0 / step
    if not MIN_HZ * 0.95 <= rate <= MAX_HZ * 1.05:
        raise RecordingError(f"{name}: {rate:.0f} Hz; clips must be {MIN_HZ}-{MAX_HZ} Hz")
    if np.any(np.abs(steps - step) > MAX_JITTER * step):
        raise RecordingError(f"{name}: ms steps vary (gaps or jitter); a steady rate is needed")
    width = round(rate / CAPTURE_HZ)
    if width > 1:  # faster than the device: average first so the resampling does not alias
        kernel = np.ones(width) / width
        values = np.stack([np.convolve(v, kernel, mode="same") for v in values.T], axis=1)
    grid = np.arange(ms[0], ms[-1] + 1e-9, STEP_MS)
    out = np.stack([np.interp(grid, ms, values[:, k]) for k in range(6)], axis=1)
    return saturate(out)


def clip_stream(samples: np.ndarray, label: str, name: str) -> Stream | None:
    """A clip as a stream: a gesture's motion (first to last active sample) is its event; an
    idle clip is a negative. None for a gesture clip without clear motion."""
    if label == IDLE:
        return Stream(name, samples, [], name)
    moving = np.flatnonzero(activity(samples))
    if not len(moving):
        return None
    event = Event(int(moving[0]) * STEP_MS, int(moving[-1]) * STEP_MS, label)
    return Stream(name, samples, [event], name)


def quiet_parts(stream: Stream) -> list[Stream]:
    """The parts of a gesture clip well away from its motion, as negative groups."""
    margin, n = QUIET_MARGIN_MS // STEP_MS, len(stream.samples)
    out = []
    for e in stream.events:
        a, b = e.start_ms // STEP_MS - margin, e.end_ms // STEP_MS + margin
        for k, (lo, hi) in enumerate(((0, a), (b + 1, n))):
            if (hi - lo) * STEP_MS >= MIN_QUIET_MS:
                name = f"{stream.name}~quiet{k}"  # same group: held out with its clip
                out.append(Stream(name, stream.samples[lo:hi], [], stream.group))
    return out


def synthetic_idle(seconds: float, seed: int = SYNTHETIC_IDLE_SEED) -> list[Stream]:
    """Rest and handling (pick up, hold, put down), synthesized, in 30 s groups."""
    from training.synthetic import generate_recording

    out = []
    for k in range(max(1, round(seconds / 30))):
        samples, _ = generate_recording(seed + k, 30.0, gestures=())
        out.append(Stream(f"synthetic-idle-{k}", samples[:, :6], [], f"synthetic-idle-{k}"))
    return out


def clip_streams(folder: Path) -> tuple[list[Stream], dict]:
    """Every usable clip of a clip folder as a stream, negatives made if there is no idle
    folder, and what happened: {"kind", "clips", "skipped", "notes"}."""
    folders = class_folders(folder)
    streams, skipped, counts = [], {}, {}
    for label, paths in folders.items():
        for path in paths:
            name = f"{label}/{path.stem}"
            try:
                stream = clip_stream(read_clip(path), label, name)
            except RecordingError as exc:
                skipped[name] = str(exc)
                continue
            if stream is None:
                skipped[name] = "no clear motion"
                continue
            streams.append(stream)
            counts[label] = counts.get(label, 0) + 1
    if not any(s.events for s in streams):
        raise FileNotFoundError(f"no usable gesture clips in {folder} (skipped: {len(skipped)})")
    notes = []
    if IDLE not in counts:
        quiet = [q for s in streams for q in quiet_parts(s)]
        quiet_s = sum(len(q.samples) for q in quiet) * STEP_MS / 1000
        gesture_s = sum(len(s.samples) for s in streams) * STEP_MS / 1000
        made = synthetic_idle(max(60.0, gesture_s / 4))
        streams += quiet + made
        notes.append(
            f"No idle folder: negatives are the clips' own quiet parts ({len(quiet)} parts, "
            f"{quiet_s:.0f} s) and synthesized rest and handling ({len(made) * 30} s)."
        )
    if skipped:
        notes.append(f"{len(skipped)} clips skipped (malformed, wrong rate or no clear motion).")
    source = {"kind": "clips", "clips": counts, "skipped": skipped, "notes": notes}
    return streams, source
