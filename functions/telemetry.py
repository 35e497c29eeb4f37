"""POST /telemetry: a device heartbeat (acceleration RMS per axis, heap, uptime, queue)."""

from datetime import timedelta

from functions import wiring
from functions.api import Request, Route, endpoint
from functions.domain import devices, events
from functions.models.telemetry import Telemetry, TelemetryAccepted
from functions.settings import get_settings

ROUTE = Route("POST", "/telemetry", "Store a heartbeat", TelemetryAccepted, body=Telemetry)


@endpoint(ROUTE)
def handler(request: Request) -> TelemetryAccepted:
    beat: Telemetry = request.body
    device_id = devices.writer(request.device, beat.device_id)
    settings = get_settings()
    events.check_time(
        beat.t_ms, request.now_ms, settings.max_event_age_days, settings.max_clock_skew_s, "t_ms"
    )
    retention = timedelta(days=settings.telemetry_retention_days)
    record = beat.model_dump(exclude={"device_id"}) | {
        "device_id": device_id,
        "received_at": request.now.isoformat(),
        "expires_at": int((request.now + retention).timestamp()),
    }
    wiring.telemetry().put(record)
    return TelemetryAccepted(device_id=device_id, t_ms=beat.t_ms)
