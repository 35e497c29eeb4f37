"""POST /samples: a raw IMU window for labelling and retraining, into the S3 raw layer."""

import hashlib

from functions import storage_layout, wiring
from functions.api import Request, Route, endpoint
from functions.domain import devices, events
from functions.models.samples import SampleStored, SampleWindow
from functions.settings import get_settings

ROUTE = Route(
    "POST",
    "/samples",
    "Store a raw IMU window in the raw layer (same window, same key)",
    SampleStored,
    body=SampleWindow,
)


@endpoint(ROUTE)
def handler(request: Request) -> SampleStored:
    window: SampleWindow = request.body
    device_id = devices.writer(request.device, window.device_id)
    settings = get_settings()
    events.check_time(
        window.t_ms, request.now_ms, settings.max_event_age_days, settings.max_clock_skew_s, "t_ms"
    )
    content = window.model_dump(exclude={"device_id"})
    digest = hashlib.sha256(repr(sorted(content.items())).encode()).hexdigest()
    key = storage_layout.raw_sample_key(device_id, window.t_ms, digest)
    document = content | {"device_id": device_id, "received_at": request.now.isoformat()}
    wiring.samples().put(key, document)
    return SampleStored(device_id=device_id, key=key, rows=len(window.values))
