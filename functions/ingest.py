"""POST /events: a batch of gesture events from one device, stored exactly once.

Idempotency: an event with an id is stored once per (device, id) whatever its t_ms; one
without (older firmware) once per (device, t_ms, seq). The answer lists the stored ids, so a
device removes an event only on this answer; `duplicates` names the events stored before (a
resend) and whether each differs from the stored copy, which is kept. A 400 lists the bad
events (`errors`, by index) and stores none of the batch."""

from functions.api import Request, Route, count_by_gesture, endpoint
from functions.batches import store_batch
from functions.models.events import EventBatch, EventsAccepted

ROUTE = Route(
    "POST",
    "/events",
    "Store a batch of gesture events (a resent event is stored once; the answer names it)",
    EventsAccepted,
    body=EventBatch,
)


@endpoint(ROUTE)
def handler(request: Request) -> EventsAccepted:
    answer, result = store_batch(request.device, request.body, request.now)
    count_by_gesture("Accepted", result.new)
    count_by_gesture("Duplicates", result.duplicates)
    return answer
