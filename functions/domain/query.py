"""GET /events: time ranges, fleet day partitions and opaque pagination cursors."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, timedelta

from functions.domain.events import DAY_MS, parse_event_key, parse_fleet_key
from functions.exceptions import InvalidInput
from functions.storage_layout import utc_day

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


@dataclass(frozen=True)
class TimeRange:
    from_ms: int
    to_ms: int


def time_range(
    from_ms: int | None, to_ms: int | None, now_ms: int, max_days: int | None
) -> TimeRange:
    """The range asked for; the fleet view (max_days set) defaults to, and is capped at, days."""
    end = now_ms + DAY_MS if to_ms is None else to_ms
    default_start = 0 if max_days is None else max(0, now_ms - DAY_MS)
    start = default_start if from_ms is None else from_ms
    if start > end:
        raise InvalidInput("from must not be after to", field="from")
    if max_days is not None and end - start > max_days * DAY_MS:
        raise InvalidInput(f"the fleet view spans at most {max_days} days", field="from")
    return TimeRange(start, end)


def days_newest_first(time: TimeRange) -> list[str]:
    """The UTC days (fleet index partitions) a range touches, newest first."""
    first = date.fromisoformat(utc_day(time.from_ms))
    last = date.fromisoformat(utc_day(time.to_ms))
    return [(last - timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(cursor: str, kind: str) -> list[str]:
    """The fields of a cursor this API returned of `kind` ("d" or "f"), else InvalidInput."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    fields = text.split("|")
    if fields[0] != kind:
        raise _not_ours()
    return fields[1:]


def _not_ours() -> InvalidInput:
    return InvalidInput("cursor is not one this API returned", field="cursor")


def device_cursor(event_key: str) -> str:
    return _encode(f"d|{event_key}")


def parse_device_cursor(cursor: str) -> str:
    """The event_key to continue after."""
    fields = _decode(cursor, "d")
    try:
        [key] = fields
        parse_event_key(key)
    except ValueError:
        raise _not_ours() from None
    return key


def fleet_cursor(day: str, fleet_key: str) -> str:
    return _encode(f"f|{day}|{fleet_key}")


def parse_fleet_cursor(cursor: str) -> tuple[str, str]:
    """The (day, fleet_key) to continue after."""
    fields = _decode(cursor, "f")
    try:
        [day, key] = fields
        parse_fleet_key(key)
    except ValueError:
        raise _not_ours() from None
    if not _DAY.fullmatch(day):
        raise _not_ours()
    return day, key
