"""Device sample windows (the collect job's windows.jsonl) as labelled training recordings.

Training reads 100 Hz recordings with labels (training/recordings.py). A device uploads
1-second windows with an optional label. Usable windows (labelled, 100 Hz, all six signals)
of one device and UTC day become one recording, back to back in time order; a gesture window
is one event spanning the window, an "idle" window adds motion without an event (a hard
negative, e.g. a labelled near-miss). Everything else is counted as skipped, with the reason.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from gesture.units import raw_to_si

from functions.storage_layout import utc_day
from training.recordings import CAPTURE_HZ, GESTURES, SIGNALS, STEP_MS, Event, write_recording


def unusable(window: dict) -> str | None:
    """Why a window cannot become training data, or None if it can."""
    if window.get("label") not in (*GESTURES, "idle"):
        return "unlabelled"
    if window.get("rate_hz") != CAPTURE_HZ:
        return f"not {CAPTURE_HZ} Hz"
    if sorted(window.get("signals", [])) != sorted(SIGNALS):
        return "not all six signals"
    if not window.get("values"):
        return "empty"
    return None


def si_samples(window: dict) -> np.ndarray:
    """The window's rows as N x 6 SI samples in SIGNALS order."""
    order = [window["signals"].index(name) for name in SIGNALS]
    rows = np.asarray(window["values"], dtype=float)[:, order]
    if window.get("units", "raw") == "raw":
        rows = np.asarray([raw_to_si(*row) for row in rows.tolist()])
    return rows


def windows_to_recordings(windows_jsonl: Path, folder: Path) -> dict:
    """Write one recording per device and day into folder; return what was used and skipped."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    skipped: Counter = Counter()
    for line in Path(windows_jsonl).read_text().splitlines():
        window = json.loads(line)
        reason = unusable(window)
        if reason:
            skipped[reason] += 1
        else:
            groups[(window["device_id"], utc_day(window["t_ms"]))].append(window)
    for (device, day), windows in sorted(groups.items()):
        parts, events, at = [], [], 0
        for window in sorted(windows, key=lambda w: w["t_ms"]):
            samples = si_samples(window)
            if window["label"] in GESTURES:
                end = (at + len(samples) - 1) * STEP_MS
                events.append(Event(at * STEP_MS, end, window["label"]))
            parts.append(samples)
            at += len(samples)
        samples = np.hstack([np.vstack(parts), np.arange(at, dtype=float)[:, None] * STEP_MS])
        write_recording(folder / f"device-{device}-{day}.csv", samples, events)
    used = sum(len(w) for w in groups.values())
    return {"used": used, "recordings": len(groups), "skipped": dict(sorted(skipped.items()))}
