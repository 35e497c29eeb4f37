"""Label Studio time-series exports (JSON) as gesture events for recordings.

The labelling project shows a recording CSV with `timeColumn="ms"` and a `TimeSeriesLabels`
control whose labels are the gesture names, so each result's `value` carries `start`/`end` in
ms and `timeserieslabels: [gesture]`. Tasks are matched to recordings by the CSV file name in
the task data (Label Studio prefixes uploads with `<hash>-`).
"""

from __future__ import annotations

import json
from pathlib import Path

from training.recordings import STEP_MS, Event, RecordingError, is_gesture_name

LABEL_TYPE = "timeserieslabels"


def _csv_name(data: dict) -> str | None:
    for value in data.values():
        if isinstance(value, str) and value.lower().split("?")[0].endswith(".csv"):
            return value.split("?")[0].rsplit("/", 1)[-1]
    return None


def _events(result: list[dict], time_unit: str) -> list[Event]:
    scale = STEP_MS if time_unit == "index" else 1
    events = []
    for item in result:
        value = item.get("value", {})
        if item.get("type") != LABEL_TYPE and LABEL_TYPE not in value:
            continue
        names = value.get(LABEL_TYPE) or []
        if len(names) != 1 or not is_gesture_name(names[0]):
            continue  # other labels (e.g. "idle", "handling") are not gesture events
        try:
            start, end = float(value["start"]) * scale, float(value["end"]) * scale
        except (KeyError, TypeError, ValueError):
            raise RecordingError(f"time-series label without numeric start/end: {value}") from None
        events.append(Event(round(min(start, end)), round(max(start, end)), names[0]))
    return sorted(events)


def parse_export(tasks: list | dict, time_unit: str = "ms") -> dict[str, list[Event]]:
    """Events per recording file name from a Label Studio JSON export (list of tasks)."""
    if time_unit not in ("ms", "index"):
        raise ValueError("time_unit must be 'ms' (timeColumn=ms) or 'index' (no timeColumn)")
    tasks = tasks if isinstance(tasks, list) else [tasks]
    out: dict[str, list[Event]] = {}
    for task in tasks:
        name = _csv_name(task.get("data", {}))
        annotations = [a for a in task.get("annotations", []) if not a.get("was_cancelled")]
        if name is None or not annotations:
            continue
        out[name] = _events(annotations[-1].get("result", []), time_unit)
    return out


def read_export(path: Path, time_unit: str = "ms") -> dict[str, list[Event]]:
    try:
        tasks = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise RecordingError(f"{Path(path).name}: not JSON ({exc})") from None
    return parse_export(tasks, time_unit)


def events_for(recording: Path, exported: dict[str, list[Event]]) -> list[Event] | None:
    """The exported events of a recording (exact name, or a Label Studio upload `<hash>-name`)."""
    name = Path(recording).name
    if name in exported:
        return exported[name]
    matches = [k for k in exported if k.endswith("-" + name)]
    if len(matches) > 1:
        raise RecordingError(f"{name}: several Label Studio tasks match ({matches})")
    return exported[matches[0]] if matches else None
