"""What every handler shares: Powertools objects, error -> HTTP mapping, the caller's device."""

from __future__ import annotations

import os
import time
import warnings
from collections import Counter
from datetime import UTC, datetime

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit

from functions import wiring
from functions.domain.devices import Device
from functions.exceptions import ApiError, Forbidden, InvalidInput, NotFound, PayloadTooLarge
from functions.models import ErrorBody
from functions.settings import get_settings

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "gesture-stack"))
tracer = Tracer(service=os.environ.get("POWERTOOLS_SERVICE_NAME", "gesture-stack"))
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "GestureStack"))
METRICS_DISABLED = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true")
warnings.filterwarnings("ignore", message="No application metrics to publish")

STATUS = {
    InvalidInput: (400, "invalid_input"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    PayloadTooLarge: (413, "payload_too_large"),
}


def error_response(status: int, error: str, message: str, field: str | None = None) -> Response:
    body = ErrorBody(error=error, message=message, field=field)
    return Response(status, content_types.APPLICATION_JSON, body.model_dump_json())


def field_name(loc: tuple) -> str | None:
    """("body", "events", 0, "gesture") -> "events[0].gesture"; ("query", "limit") -> "limit"."""
    parts = [part for part in loc[1:] if not isinstance(part, int) or loc[0] == "body"]
    name = ""
    for part in parts:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name or (str(loc[0]) if loc else None)


def build_app() -> APIGatewayRestResolver:
    """A resolver validating requests with the pydantic models, errors mapped to JSON 4xx."""
    app = APIGatewayRestResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def invalid_request(error: RequestValidationError) -> Response:
        first = error.errors()[0]
        loc = tuple(first.get("loc", ()))
        if first.get("type") == "json_invalid":
            return error_response(400, "invalid_json", "the body is not valid JSON", "body")
        field = field_name(loc) if loc else None
        message = f"{field or 'request'}: {first.get('msg', 'invalid')}"
        metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
        return error_response(400, "invalid_input", message, field)

    @app.exception_handler(ApiError)
    def api_error(error: ApiError) -> Response:
        status, code = STATUS.get(type(error), (400, "invalid_input"))
        if status == 400:
            metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
        return error_response(status, code, error.message, error.field)

    @app.not_found
    def not_found(_error) -> Response:
        return error_response(404, "not_found", "no such route")

    return app


def current_device(app: APIGatewayRestResolver) -> Device:
    """The device behind the request's API key (API Gateway sets identity.apiKeyId)."""
    key_id = app.current_event.request_context.identity.api_key_id
    if not key_id:
        raise Forbidden("an API key is required")
    device = wiring.devices().lookup(key_id)
    if device is None:
        raise Forbidden("this API key is not registered to a device")
    logger.append_keys(device_id=device.device_id)
    return device


def count_by_gesture(name: str, records: list[dict]) -> None:
    """Count records per gesture as `<name>_<gesture>` (e.g. Accepted_circle, Duplicates_x)."""
    for gesture, count in Counter(record["gesture"] for record in records).items():
        metrics.add_metric(name=f"{name}_{gesture}", unit=MetricUnit.Count, value=count)


def request_time(app: APIGatewayRestResolver) -> datetime:
    """When API Gateway received the request (requestTimeEpoch): "now" for time checks."""
    epoch_ms = app.current_event.request_context.request_time_epoch
    return datetime.fromtimestamp(epoch_ms / 1000 if epoch_ms else time.time(), tz=UTC)


def lambda_handler(app: APIGatewayRestResolver):
    """The Lambda entry point for a resolver: logging, tracing, metrics, and the body limit."""

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    @tracer.capture_lambda_handler
    @metrics.log_metrics
    def handler(event: dict, context) -> dict:
        body = event.get("body") or ""
        limit = get_settings().max_body_bytes
        if len(body) > limit:
            error = ErrorBody(
                error="payload_too_large", message=f"the body is over {limit} bytes", field="body"
            )
            return {
                "statusCode": 413,
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": error.model_dump_json(),
                "isBase64Encoded": False,
            }
        try:
            return app.resolve(event, context)
        finally:
            if METRICS_DISABLED:  # Powertools would keep them and flush every 100 values anyway
                metrics.clear_metrics()

    return handler
