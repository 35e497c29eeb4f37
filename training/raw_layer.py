"""Raw windows uploaded by devices (the S3 raw layer written by POST /samples) as streams.

A local copy of the bucket's `raw/samples/device=<id>/date=<day>/<t_ms>-<digest>.json` objects
(as `aws s3 sync` leaves it) is read; each labelled window at the capture rate with all six
signals becomes a short stream: a gesture label makes its motion the event, "idle" makes it a
negative. Unlabelled windows and other rates or signal subsets are skipped and counted.

The pipeline's collect job hands a run's windows over in one file, `raw/windows.jsonl`: one
raw-layer object a line, with its bucket `key` and `device_id` (`window_row` writes a line,
`raw_window_streams` reads the file beside the objects), so nothing is unpacked on the way.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
from gesture.units import SIGNALS

from training.rawunits import counts_to_si, quantise
from training.recordings import CAPTURE_HZ, IDLE, STEP_MS, Event, is_gesture_name
from training.streams import Stream, activity

RAW_PREFIX = Path("raw") / "samples"
WINDOWS_FILE = Path("raw") / "windows.jsonl"  # the collect job's windows, relative to a folder


def window_row(key: str, device_id: str, window: dict) -> dict:
    """One line of windows.jsonl: a raw-layer object with its bucket key and device."""
    return {"key": key, "device_id": device_id, **window}


def raw_files(folder: Path) -> list[Path]:
    root = Path(folder) / RAW_PREFIX
    return sorted(root.glob("device=*/date=*/*.json")) if root.is_dir() else []


def window_stream(obj: dict, name: str) -> Stream | None:
    """One raw-layer object as a stream, or None when it cannot be used for training."""
    label = obj.get("label")
    if not (label == IDLE or is_gesture_name(label)) or obj.get("rate_hz") != CAPTURE_HZ:
        return None
    signals = obj.get("signals") or []
    if sorted(signals) != sorted(SIGNALS):
        return None
    values = np.asarray(obj["values"], dtype=float)[:, [signals.index(s) for s in SIGNALS]]
    samples = counts_to_si(values) if obj.get("units", "raw") == "raw" else quantise(values)
    events = []
    if label != IDLE:
        moving = np.flatnonzero(activity(samples))
        if not len(moving):
            return None
        events = [Event(int(moving[0]) * STEP_MS, int(moving[-1]) * STEP_MS, label)]
    group = f"{obj.get('device_id', 'unknown')}/{obj.get('t_ms', name)}"
    return Stream(name, samples, events, group)


def _objects(folder: Path):
    """(name, object or None if unreadable) of every raw-layer object under `folder`: the
    files of a local copy of the bucket, then the lines of a collected windows.jsonl."""
    for path in raw_files(folder):
        try:
            yield path.stem, json.loads(path.read_text())
        except json.JSONDecodeError:
            yield path.stem, None
    collected = Path(folder) / WINDOWS_FILE
    lines = collected.read_text().splitlines() if collected.is_file() else []
    for number, line in enumerate(lines, 1):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            row = None
        if not isinstance(row, dict):
            yield f"{WINDOWS_FILE.name}:{number}", None
            continue
        yield Path(str(row.get("key", number))).stem, row


def raw_window_streams(folder: Path) -> tuple[list[Stream], Counter]:
    """Usable raw-layer windows under `folder` and counts of what was used or skipped."""
    streams, counts = [], Counter()
    for name, obj in _objects(folder):
        if obj is None:
            counts["unreadable"] += 1
            continue
        stream = window_stream(obj, name)
        counts["used" if stream else "skipped"] += 1
        if stream:
            streams.append(stream)
    return streams, counts
