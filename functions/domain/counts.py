"""GET /events/counts: events per time bucket, device and gesture over a range. Pure."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from functions.domain.events import DAY_MS
from functions.domain.query import TimeRange
from functions.models.dashboard import EventCounts, Series

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
BUCKET_SIZES_MS = (
    MINUTE_MS,
    5 * MINUTE_MS,
    15 * MINUTE_MS,
    HOUR_MS,
    3 * HOUR_MS,
    6 * HOUR_MS,
    DAY_MS,
)
MAX_BUCKETS = 120


def bucket_size(span: TimeRange) -> int:
    """The smallest bucket that splits the range into at most MAX_BUCKETS."""
    length = span.to_ms - span.from_ms + 1
    for size in BUCKET_SIZES_MS:
        if -(-length // size) <= MAX_BUCKETS:
            return size
    return BUCKET_SIZES_MS[-1]


def bucket_starts(span: TimeRange, size: int) -> list[int]:
    """Start times of the buckets covering the range, aligned to multiples of `size` (UTC)."""
    first = span.from_ms - span.from_ms % size
    return list(range(first, span.to_ms + 1, size))


def count(
    events: Iterable[tuple[str, str, int]], span: TimeRange, complete: bool = True
) -> EventCounts:
    """Tally (device_id, gesture, t_ms) triples; times outside the range are not counted."""
    size = bucket_size(span)
    starts = bucket_starts(span, size)
    first = starts[0]
    tally: Counter[tuple[str, str, int]] = Counter()
    for device_id, gesture, t_ms in events:
        if span.from_ms <= t_ms <= span.to_ms:
            tally[(device_id, gesture, (t_ms - first) // size)] += 1
    per_series: dict[tuple[str, str], list[int]] = {}
    for (device_id, gesture, index), n in tally.items():
        per_series.setdefault((device_id, gesture), [0] * len(starts))[index] += n
    series = [
        Series(device_id=device_id, gesture=gesture, total=sum(counts), counts=counts)
        for (device_id, gesture), counts in sorted(per_series.items())
    ]
    return EventCounts(
        from_ms=span.from_ms,
        to_ms=span.to_ms,
        bucket_ms=size,
        buckets=starts,
        series=series,
        events=sum(tally.values()),
        complete=complete,
    )
