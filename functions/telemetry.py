"""POST /telemetry: a device heartbeat (acceleration RMS per axis, heap, uptime, queue)."""

from datetime import timedelta

from functions import wiring
from functions.api import Request, Route, endpoint
from functions.domain import devices
from functions.models.telemetry import Telemetry, TelemetryAccepted
from functions.settings import get_settings

ROUTE = Route("POST", "/telemetry", "Store a heartbeat", TelemetryAccepted, body=Telemetry)


@endpoint(ROUTE)
def handler(request: Request) -> TelemetryAccepted:
    beat: Telemetry = request.body
    device_id = devices.writer(request.device, beat.device_id)
    retention = timedelta(days=get_settings().telemetry_retention_days)
    record = beat.model_dump(exclude={"device_id"}) | {
        "device_id": device_id,
        "received_at": request.now.isoformat(),
        "expires_at": int((request.now + retention).timestamp()),
    }
    wiring.telemetry().put(record)
    return TelemetryAccepted(device_id=device_id, t_ms=beat.t_ms)
