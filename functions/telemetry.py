"""POST /telemetry: a device heartbeat (acceleration RMS per axis, heap, uptime, queue)."""

from datetime import timedelta
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from functions import wiring
from functions.api import build_app, current_device, lambda_handler, request_time, tracer
from functions.domain import devices
from functions.models import Telemetry, TelemetryAccepted
from functions.settings import get_settings

app = build_app()


@app.post("/telemetry")
@tracer.capture_method
def post_telemetry(beat: Annotated[Telemetry, Body()]) -> TelemetryAccepted:
    device_id = devices.writer(current_device(app), beat.device_id)
    now = request_time(app)
    retention = timedelta(days=get_settings().telemetry_retention_days)
    record = beat.model_dump(exclude={"device_id"}) | {
        "device_id": device_id,
        "received_at": now.isoformat(),
        "expires_at": int((now + retention).timestamp()),
    }
    wiring.telemetry().put(record)
    return TelemetryAccepted(device_id=device_id, t_ms=beat.t_ms)


handler = lambda_handler(app)
