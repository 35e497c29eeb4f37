"""GET /events: one device's events newest first, or the fleet view for the dashboard.

One device: a Query on the table key (device_id, event_key). Whole fleet (no device_id,
dashboard key only): per UTC day, a Query on each shard of the fleet index, merged in time
order (EventsTable.fleet_day). Never a Scan.
"""

from functions import wiring
from functions.api import Request, Route, endpoint
from functions.domain import devices, query
from functions.domain.events import device_key_range, fleet_key_range, to_stored_event
from functions.exceptions import InvalidInput
from functions.models.events import EventPage, EventsQuery
from functions.settings import get_settings

ROUTE = Route(
    "GET",
    "/events",
    "Events newest first: one device, or (dashboard key, no device_id) the fleet",
    EventPage,
    query=EventsQuery,
)


@endpoint(ROUTE)
def handler(request: Request) -> EventPage:
    params: EventsQuery = request.query
    target = devices.reader(request.device, params.device_id)
    fleet_days = None if target else get_settings().fleet_max_range_days
    span = query.time_range(params.from_ms, params.to_ms, request.now_ms, fleet_days)
    if target:
        return _device_page(target, span, params.limit, params.cursor)
    return _fleet_page(span, params.limit, params.cursor)


def _device_page(device_id: str, span: query.TimeRange, limit: int, cursor: str | None):
    low, high = device_key_range(span.from_ms, span.to_ms)
    after = query.parse_device_cursor(cursor) if cursor else None
    if after is not None:
        high = min(high, after)
    records = wiring.events().query_device(device_id, low, high, limit + 2)
    records = [r for r in records if r["event_key"] != after]
    page = records[:limit]
    next_cursor = query.device_cursor(page[-1]["event_key"]) if len(records) > limit else None
    return EventPage(items=[to_stored_event(r) for r in page], next_cursor=next_cursor)


def _fleet_page(span: query.TimeRange, limit: int, cursor: str | None):
    days = query.days_newest_first(span)
    after_day, after_key = query.parse_fleet_cursor(cursor) if cursor else (None, None)
    if after_day is not None:
        if after_day not in days:
            raise InvalidInput("cursor is outside the time range", field="cursor")
        days = days[days.index(after_day) :]
    low, high = fleet_key_range(span.from_ms, span.to_ms)
    records: list[dict] = []
    for day in days:
        top = min(high, after_key) if day == after_day else high
        found = wiring.events().query_day(day, low, top, limit - len(records) + 2)
        records += [r for r in found if r["fleet_key"] != after_key]
        if len(records) > limit:
            break
    page = records[:limit]
    last = page[-1] if page else None
    next_cursor = (
        query.fleet_cursor(last["day"], last["fleet_key"]) if len(records) > limit else None
    )
    return EventPage(items=[to_stored_event(r) for r in page], next_cursor=next_cursor)


def fleet_events(span: query.TimeRange, page_size: int = 500):
    """Every event of the fleet in `span`, newest first: each day's shards read once, in pages
    of `page_size` (not GET /events' pages, each of which queries every shard again)."""
    low, high = fleet_key_range(span.from_ms, span.to_ms)
    for day in query.days_newest_first(span):
        for record in wiring.events().fleet_day(day, low, high, page_size):
            yield to_stored_event(record)


def device_events(device_id: str, span: query.TimeRange, page_size: int = 500):
    """Every event of one device in `span`, newest first, read page by page like GET /events."""
    return _pages(lambda cursor: _device_page(device_id, span, page_size, cursor))


def _pages(read_page):
    cursor = None
    while True:
        page = read_page(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
