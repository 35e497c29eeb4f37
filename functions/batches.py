"""Storing a device's batch of events: the work of POST /events without its HTTP side, so any
front (our endpoint, the Powertools variant benchmarks/api_resolver.py measures) does the same."""

from datetime import datetime

from functions import wiring
from functions.adapters.events_table import WriteResult
from functions.domain import devices, events, vocabulary
from functions.domain.devices import Device
from functions.models.events import EventBatch, EventsAccepted
from functions.settings import get_settings


def store_batch(
    device: Device, batch: EventBatch, now: datetime
) -> tuple[EventsAccepted, WriteResult]:
    """Check a device's batch (writer, vocabulary, times) and store it: the answer, and what
    was new or stored before (the route's metrics count them)."""
    device_id = devices.writer(device, batch.device_id)
    settings = get_settings()
    names = [(f"events[{i}].gesture", e.gesture) for i, e in enumerate(batch.events)]
    known = wiring.vocabulary().known({name for _, name in names})
    vocabulary.check_known(names, known)
    now_ms = int(now.timestamp() * 1000)
    events.check_times(batch, now_ms, settings.max_event_age_days, settings.max_clock_skew_s)
    records = events.to_records(device_id, batch, now, settings.events_retention_days)
    result = wiring.events().put_new(records)
    in_order = sorted(result.duplicates, key=records.index)
    stored = wiring.events().stored_copies(in_order) if in_order else []
    answer = EventsAccepted(
        device_id=device_id,
        accepted=len(records),
        first_seq=batch.events[0].seq,
        last_seq=batch.events[-1].seq,
        ids=[event.id for event in batch.events if event.id is not None],
        duplicates=events.duplicates(in_order, stored),
    )
    return answer, result
