"""GET /events: time ranges, fleet day partitions and opaque pagination cursors."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import date, timedelta

from functions.domain.events import DAY_MS
from functions.exceptions import InvalidInput
from functions.storage_layout import utc_day

_DEVICE_CURSOR = re.compile(r"^d\|(\d{13}#\d{10})$")
_FLEET_CURSOR = re.compile(r"^f\|(\d{4}-\d{2}-\d{2})\|(\d{13}#[A-Za-z0-9_-]{1,64}#\d{10})$")


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


def _decode(cursor: str, pattern: re.Pattern) -> re.Match:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    match = pattern.match(text)
    if match is None:
        raise InvalidInput("cursor is not one this API returned", field="cursor")
    return match


def device_cursor(event_key: str) -> str:
    return _encode(f"d|{event_key}")


def parse_device_cursor(cursor: str) -> str:
    """The event_key to continue after."""
    return _decode(cursor, _DEVICE_CURSOR).group(1)


def fleet_cursor(day: str, fleet_key: str) -> str:
    return _encode(f"f|{day}|{fleet_key}")


def parse_fleet_cursor(cursor: str) -> tuple[str, str]:
    """The (day, fleet_key) to continue after."""
    match = _decode(cursor, _FLEET_CURSOR)
    return match.group(1), match.group(2)
