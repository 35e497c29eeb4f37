"""The ingest route on Powertools' APIGatewayRestResolver, for benchmarks/api_resolver.py only.

Routing, body validation with the same pydantic models, errors and OpenAPI come from the
library instead of functions/api.py; the domain code and adapters are the same. Not deployed.
"""

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError

from functions import wiring
from functions.domain import devices, events
from functions.models.events import EventBatch, EventsAccepted
from functions.settings import get_settings

app = APIGatewayRestResolver(enable_validation=True)


@app.post("/events")
def post_events(batch: EventBatch) -> EventsAccepted:
    key_id = app.current_event.request_context.identity.api_key_id
    device = wiring.devices().lookup(key_id) if key_id else None
    if device is None:
        raise ForbiddenError("this API key is not registered to a device")
    device_id = devices.writer(device, batch.device_id)
    settings = get_settings()
    now = app.current_event.request_context.request_time_epoch
    events.check_times(batch, now, settings.max_event_age_days, settings.max_clock_skew_s)
    from datetime import UTC, datetime

    received = datetime.fromtimestamp(now / 1000, tz=UTC)
    records = events.to_records(device_id, batch, received, settings.events_retention_days)
    result = wiring.events().put_new(records)
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


def handler(event, context):
    return app.resolve(event, context)
