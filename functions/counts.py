"""GET /events/counts: the dashboard's events per time bucket, device and gesture.

Reads the events through functions/query.py (the same Queries as GET /events, fleet index or
one device's partition), so how the fleet index is laid out stays that module's business.
"""

from itertools import islice

from functions import query as events_query
from functions.api import Request, Route, endpoint
from functions.domain import counts, devices, query
from functions.models.dashboard import CountsQuery, EventCounts
from functions.settings import get_settings

ROUTE = Route(
    "GET",
    "/events/counts",
    "Events per time bucket, device and gesture (dashboard key only)",
    EventCounts,
    query=CountsQuery,
)


@endpoint(ROUTE)
def handler(request: Request) -> EventCounts:
    devices.dashboard_only(request.device)
    params: CountsQuery = request.query
    settings = get_settings()
    span = query.time_range(
        params.from_ms, params.to_ms, request.now_ms, settings.fleet_max_range_days
    )
    if params.device_id:
        found = events_query.device_events(params.device_id, span)
    else:
        found = events_query.fleet_events(span)
    cap = settings.max_counted_events
    read = [(e.device_id, e.gesture, e.t_ms) for e in islice(found, cap + 1)]
    return counts.count(read[:cap], span, complete=len(read) <= cap)
