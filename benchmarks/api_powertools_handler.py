"""The ingest route on Powertools' APIGatewayRestResolver, for benchmarks/api_resolver.py only.

Routing, body validation with the same pydantic models, errors and OpenAPI come from the
library instead of functions/api.py; the checks and the store are ours
(functions.batches.store_batch). Not deployed.
"""

from datetime import UTC, datetime

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import ForbiddenError

from functions import wiring
from functions.batches import store_batch
from functions.models.events import EventBatch, EventsAccepted

app = APIGatewayRestResolver(enable_validation=True)


@app.post("/events")
def post_events(batch: EventBatch) -> EventsAccepted:
    key_id = app.current_event.request_context.identity.api_key_id
    device = wiring.devices().lookup(key_id) if key_id else None
    if device is None:
        raise ForbiddenError("this API key is not registered to a device")
    now = datetime.fromtimestamp(app.current_event.request_context.request_time_epoch / 1000, UTC)
    return store_batch(device, batch, now)[0]


def handler(event, context):
    return app.resolve(event, context)
