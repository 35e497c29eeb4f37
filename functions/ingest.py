"""POST /events: a batch of gesture events from one device, stored exactly once."""

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from functions import wiring
from functions.api import (
    build_app,
    count_by_gesture,
    current_device,
    lambda_handler,
    request_time,
    tracer,
)
from functions.domain import devices, events
from functions.models import EventBatch, EventsAccepted
from functions.settings import get_settings

app = build_app()


@app.post("/events")
@tracer.capture_method
def post_events(batch: Annotated[EventBatch, Body()]) -> EventsAccepted:
    device_id = devices.writer(current_device(app), batch.device_id)
    settings = get_settings()
    now = request_time(app)
    events.check_times(
        batch, int(now.timestamp() * 1000), settings.max_event_age_days, settings.max_clock_skew_s
    )
    records = events.to_records(device_id, batch, now, settings.events_retention_days)
    result = wiring.events().put_new(records)
    count_by_gesture("Accepted", result.new)
    count_by_gesture("Duplicates", result.duplicates)
    return EventsAccepted(
        device_id=device_id,
        accepted=len(records),
        first_seq=batch.events[0].seq,
        last_seq=batch.events[-1].seq,
    )


handler = lambda_handler(app)
