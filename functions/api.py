"""What every handler shares: Powertools objects, request parsing, error -> HTTP in one place.

Each Lambda serves exactly one route, so there is no router: `endpoint(Route(...))` turns a
function of a parsed `Request` into the Lambda handler (logging with the API Gateway request id
as correlation id, tracing, metrics), and keeps the Route for the OpenAPI document.
"""

import base64
import json
import os
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ValidationError

from functions import wiring
from functions.domain.devices import Device
from functions.exceptions import (
    ApiError,
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    Unavailable,
)
from functions.models.common import ErrorBody, ItemError
from functions.settings import get_settings


class NoTracer:
    """Stands in for Powertools' Tracer where nothing would be traced (tests, local runs)."""

    @staticmethod
    def capture_method(fn):
        return fn

    @staticmethod
    def capture_lambda_handler(fn):
        return fn


SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME", "gesture-stack")
logger = Logger(service=SERVICE)
# The X-Ray SDK costs a fifth of a second to import; Lambda sets AWS_XRAY_DAEMON_ADDRESS only
# when active tracing is on, and Powertools would disable the Tracer everywhere else anyway.
tracer = Tracer(service=SERVICE) if os.environ.get("AWS_XRAY_DAEMON_ADDRESS") else NoTracer()
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "GestureStack"))
METRICS_DISABLED = os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() in ("1", "true")
warnings.filterwarnings("ignore", message="No application metrics to publish")


RETRY_AFTER_S = 1  # Retry-After of a 503 (a store kept refusing the write: contention)

STATUS = {
    InvalidInput: (400, "invalid_input"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    PayloadTooLarge: (413, "payload_too_large"),
    Unavailable: (503, "unavailable"),
}


@dataclass(frozen=True)
class Route:
    """One API route: its models are the contract (validation and the OpenAPI document)."""

    method: str
    path: str
    summary: str
    response: type[BaseModel]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    auth: bool = True
    responses: dict[int, str] = field(default_factory=dict)


@dataclass
class Reply:
    """A response other than a plain 200 with the route's response model."""

    status: int
    body: BaseModel | None = None
    headers: dict[str, str] = field(default_factory=dict)


class Request:
    """The parsed request: validated body and query, the caller's device, the request time."""

    def __init__(self, event: dict, route: Route):
        self.event = event
        self.route = route
        self.body = None
        self.query = None

    def parse(self) -> None:
        """Validate body and query with the route's models (pydantic ValidationError if bad)."""
        if self.route.body:
            raw = _raw_body(self.event) or ""
            reject_duplicate_keys(raw)
            self.body = self.route.body.model_validate_json(raw)
        if self.route.query:
            self.query = self.route.query.model_validate(
                self.event.get("queryStringParameters") or {}
            )

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in (self.event.get("headers") or {}).items():
            if key.lower() == name:
                return value
        return None

    @cached_property
    def device(self) -> Device:
        """The device behind the API key (API Gateway sets identity.apiKeyId)."""
        identity = self.event.get("requestContext", {}).get("identity") or {}
        key_id = identity.get("apiKeyId")
        if not key_id:
            raise Forbidden("an API key is required")
        device = wiring.devices().lookup(key_id)
        if device is None:
            raise Forbidden("this API key is not registered to a device")
        return device

    @cached_property
    def now(self) -> datetime:
        """When API Gateway received the request (requestTimeEpoch): "now" for time checks."""
        epoch_ms = self.event.get("requestContext", {}).get("requestTimeEpoch")
        return datetime.fromtimestamp(epoch_ms / 1000 if epoch_ms else time.time(), tz=UTC)

    @property
    def now_ms(self) -> int:
        return int(self.now.timestamp() * 1000)


def endpoint(route: Route):
    """Decorator: `fn(request) -> model | Reply` becomes the Lambda handler of `route`."""

    def decorate(fn):
        traced = tracer.capture_method(fn)

        @logger.inject_lambda_context(
            correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True
        )
        @tracer.capture_lambda_handler
        @metrics.log_metrics
        def handler(event: dict, context) -> dict:
            try:
                return _proxy_response(_serve(traced, route, event))
            finally:
                if METRICS_DISABLED:  # Powertools would keep them and flush every 100 values
                    metrics.clear_metrics()

        return LambdaHandler(fn, route, handler)

    return decorate


class LambdaHandler:
    """A route's Lambda entry point. Its `__code__` is the route function's, so a debugger's
    `break functions.ingest.handler` stops in the code you wrote, not in a decorator."""

    def __init__(self, fn, route: Route, entry):
        self.__wrapped__ = fn
        self.route = route
        self._entry = entry

    @property
    def __code__(self):
        return self.__wrapped__.__code__

    def __call__(self, event: dict, context) -> dict:
        return self._entry(event, context)


def count_by_gesture(name: str, records: list[dict]) -> None:
    """Count records per gesture as `<name>_<gesture>` (e.g. Accepted_<gesture>)."""
    for gesture, count in Counter(record["gesture"] for record in records).items():
        metrics.add_metric(name=f"{name}_{gesture}", unit=MetricUnit.Count, value=count)


def _serve(fn, route: Route, event: dict) -> Reply:
    try:
        limit = get_settings().max_body_bytes
        size = body_bytes(event)
        if size > limit:
            raise PayloadTooLarge(f"the body is {size} bytes, over {limit} bytes", field="body")
        request = Request(event, route)
        if route.auth:
            logger.append_keys(device_id=request.device.device_id)  # key before body
        request.parse()
        result = fn(request)
    except ValidationError as error:
        metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
        return _invalid(error)
    except ApiError as error:
        status, code = STATUS.get(type(error), (400, "invalid_input"))
        if status == 400:
            metrics.add_metric(name="Rejected", unit=MetricUnit.Count, value=1)
        body = ErrorBody(error=code, message=error.message, field=error.field, errors=error.errors)
        headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else {}
        return Reply(status, body, headers)
    return result if isinstance(result, Reply) else Reply(200, result)


def _invalid(error: ValidationError) -> Reply:
    found = error.errors(include_url=False)
    first = found[0]
    if first["type"] == "json_invalid":
        body = ErrorBody(error="invalid_json", message="the body is not valid JSON", field="body")
        return Reply(400, body)
    name = field_name(first["loc"]) or "body"
    body = ErrorBody(error="invalid_input", message=f"{name}: {first['msg']}", field=name)
    body.errors = item_errors(found)
    return Reply(400, body)


def item_errors(found: list[dict]) -> list[ItemError] | None:
    """Per-item errors when every error is inside one item of a list (`events[3].t_ms`), so a
    client can set aside exactly the bad items; None when the body as a whole is wrong."""
    items = []
    for err in found:
        loc = err["loc"]
        if len(loc) < 2 or not isinstance(loc[1], int):
            return None
        name = field_name(loc)
        items.append(ItemError(index=loc[1], field=name, message=f"{name}: {err['msg']}"))
    return items


def field_name(loc: tuple) -> str:
    """("events", 0, "gesture") -> "events[0].gesture"."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def body_bytes(event: dict) -> int:
    """Size of the body as sent, in bytes (UTF-8 text, or the decoded base64 payload)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4 - body[-2:].count("=")
    return len(body.encode("utf-8", errors="surrogatepass"))


def reject_duplicate_keys(raw: str | bytes) -> None:
    """InvalidInput naming the first key that occurs twice in one JSON object, at any depth.

    JSON parsers keep the last of two equal keys; a device (or an attacker) that sends
    {"gesture": "x", "gesture": "circle"} must not have one of them silently dropped.
    Bodies that are not JSON are left to the model's parser (invalid_json).
    """

    def pairs(items: list[tuple[str, object]]) -> dict:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen:
                raise InvalidInput(f"duplicate key {key!r} in the JSON body", field=key)
            seen.add(key)
        return dict(items)

    try:
        json.loads(raw, object_pairs_hook=pairs)
    except (ValueError, RecursionError):
        return


def _raw_body(event: dict) -> str | bytes:
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body


def _proxy_response(reply: Reply) -> dict:
    headers = dict(reply.headers)
    body = ""
    if reply.body is not None:
        headers.setdefault("Content-Type", "application/json")
        body = reply.body.model_dump_json()
    return {"statusCode": reply.status, "headers": headers, "body": body, "isBase64Encoded": False}
