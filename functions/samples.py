"""POST /samples: a raw IMU window for labelling and retraining, into the S3 raw layer."""

import hashlib
from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body

from functions import storage_layout, wiring
from functions.api import build_app, current_device, lambda_handler, request_time, tracer
from functions.domain import devices
from functions.models import SampleStored, SampleWindow

app = build_app()


@app.post("/samples")
@tracer.capture_method
def post_samples(window: Annotated[SampleWindow, Body()]) -> SampleStored:
    device_id = devices.writer(current_device(app), window.device_id)
    content = window.model_dump(exclude={"device_id"})
    digest = hashlib.sha256(repr(sorted(content.items())).encode()).hexdigest()
    key = storage_layout.raw_sample_key(device_id, window.t_ms, digest)
    document = content | {"device_id": device_id, "received_at": request_time(app).isoformat()}
    wiring.samples().put(key, document)
    return SampleStored(device_id=device_id, key=key, rows=len(window.values))


handler = lambda_handler(app)
