"""Continuous 100 Hz recordings and their ground-truth labels: CSV read/write and validation.

A recording is a CSV `acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,ms` (m/s^2, deg/s, ms from 0 in
steps of 10). Its labels live beside it as `<stem>.labels.csv` with `start_ms,end_ms,gesture`.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gesture.spec import CAPTURE_HZ, SIGNALS, STEP_MS  # noqa: F401  (re-exported)

COLUMNS = (*SIGNALS, "ms")
LABEL_COLUMNS = ("start_ms", "end_ms", "gesture")
IDLE = "idle"  # the class of every window that is no gesture
NOT_GESTURES = (IDLE, "handling")  # labels of motion that is no gesture (reserved names)
GESTURE_NAME = r"^[a-z][a-z0-9_]{0,31}$"  # a class name (the API's models pin the same pattern)
LABELS_SUFFIX = ".labels.csv"


class RecordingError(ValueError):
    """A recording or labels file is malformed."""


@dataclass(frozen=True, order=True)
class Event:
    """One labelled gesture: [start_ms, end_ms] in recording time."""

    start_ms: int
    end_ms: int
    gesture: str

    def __post_init__(self) -> None:
        check_gesture_name(self.gesture)
        if self.end_ms < self.start_ms:
            raise RecordingError(f"event ends before it starts: {self}")


def check_gesture_name(name: str) -> str:
    """A gesture's name as the vocabulary allows it; RecordingError if it is not one."""
    if not is_gesture_name(name):
        raise RecordingError(
            f"bad gesture name {name!r}: [a-z][a-z0-9_]{{0,31}}, not one of {NOT_GESTURES}"
        )
    return name


def is_gesture_name(name) -> bool:
    return isinstance(name, str) and name not in NOT_GESTURES and bool(re.match(GESTURE_NAME, name))


def vocabulary(events) -> tuple[str, ...]:
    """The classes a model of these events knows: idle first, then the gestures sorted."""
    return (IDLE, *sorted({e.gesture for e in events}))


def labels_path_for(recording: Path) -> Path:
    """Where the labels of a recording CSV live."""
    recording = Path(recording)
    return recording.with_name(recording.stem + LABELS_SUFFIX)


def write_recording(path: Path, samples: np.ndarray, events: list[Event] | None = None) -> Path:
    """Write samples (N x 7, COLUMNS order) as CSV and, if given, events as the labels file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in samples:
            writer.writerow([f"{v:.6f}" for v in row[:6]] + [round(row[6])])
    if events is not None:
        write_labels(labels_path_for(path), events)
    return path


def write_labels(path: Path, events: list[Event]) -> Path:
    """Write events as `start_ms,end_ms,gesture`."""
    with Path(path).open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(LABEL_COLUMNS)
        for e in sorted(events):
            writer.writerow([e.start_ms, e.end_ms, e.gesture])
    return Path(path)


def read_recording(path: Path) -> np.ndarray:
    """Read a recording CSV into an N x 7 float array (COLUMNS order); clear error if malformed."""
    path = Path(path)
    with path.open(newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(h.strip() for h in header) != COLUMNS:
            raise RecordingError(f"{path.name}: header must be {','.join(COLUMNS)}, got {header}")
        try:
            rows = [[float(v) for v in row] for row in reader if row]
        except ValueError as exc:
            raise RecordingError(f"{path.name}: non-numeric value ({exc})") from None
    if not rows:
        raise RecordingError(f"{path.name}: no samples")
    if any(len(r) != len(COLUMNS) for r in rows):
        raise RecordingError(f"{path.name}: every row needs {len(COLUMNS)} values")
    samples = np.asarray(rows, dtype=float)
    if not np.all(np.isfinite(samples)):
        raise RecordingError(f"{path.name}: NaN or infinite values")
    steps = np.diff(samples[:, 6])
    if len(steps) and not np.allclose(steps, STEP_MS, atol=1.0):
        raise RecordingError(f"{path.name}: ms must step by {STEP_MS} (100 Hz)")
    return samples


def read_labels(path: Path) -> list[Event]:
    """Read a labels CSV `start_ms,end_ms,gesture` into sorted events."""
    path = Path(path)
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None or tuple(reader.fieldnames) != LABEL_COLUMNS:
            raise RecordingError(f"{path.name}: header must be {','.join(LABEL_COLUMNS)}")
        try:
            events = [
                Event(int(float(r["start_ms"])), int(float(r["end_ms"])), r["gesture"].strip())
                for r in reader
            ]
        except (TypeError, ValueError) as exc:
            raise RecordingError(f"{path.name}: bad row ({exc})") from None
    return sorted(events)


def find_recordings(folder: Path) -> list[Path]:
    """Recording CSVs in a folder that have a labels file beside them."""
    found = [
        p
        for p in sorted(Path(folder).glob("*.csv"))
        if not p.name.endswith(LABELS_SUFFIX) and labels_path_for(p).exists()
    ]
    return found
