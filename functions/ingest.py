"""POST /events: a batch of gesture events from one device, stored exactly once.

Idempotency: an event with an id is stored once per (device, id) whatever its t_ms; one
without (older firmware) once per (device, t_ms, seq). The answer lists the stored ids, so a
device removes an event only on this answer; `duplicates` names the events stored before (a
resend) and whether each differs from the stored copy, which is kept. A 400 lists the bad
events (`errors`, by index) and stores none of the batch."""

from functions import wiring
from functions.api import Request, Route, count_by_gesture, endpoint
from functions.domain import devices, events, vocabulary
from functions.models.events import EventBatch, EventsAccepted
from functions.settings import get_settings

ROUTE = Route(
    "POST",
    "/events",
    "Store a batch of gesture events (a resent event is stored once; the answer names it)",
    EventsAccepted,
    body=EventBatch,
)


@endpoint(ROUTE)
def handler(request: Request) -> EventsAccepted:
    batch: EventBatch = request.body
    device_id = devices.writer(request.device, batch.device_id)
    settings = get_settings()
    names = [(f"events[{i}].gesture", e.gesture) for i, e in enumerate(batch.events)]
    known = wiring.vocabulary().known({name for _, name in names})
    vocabulary.check_known(names, known)
    events.check_times(
        batch, request.now_ms, settings.max_event_age_days, settings.max_clock_skew_s
    )
    records = events.to_records(device_id, batch, request.now, settings.events_retention_days)
    result = wiring.events().put_new(records)
    count_by_gesture("Accepted", result.new)
    count_by_gesture("Duplicates", result.duplicates)
    in_order = sorted(result.duplicates, key=records.index)
    stored = wiring.events().stored_copies(in_order) if in_order else []
    return EventsAccepted(
        device_id=device_id,
        accepted=len(records),
        first_seq=batch.events[0].seq,
        last_seq=batch.events[-1].seq,
        ids=[event.id for event in batch.events if event.id is not None],
        duplicates=events.duplicates(in_order, stored),
    )
