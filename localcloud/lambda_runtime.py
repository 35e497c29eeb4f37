"""The Lambda runtime's side of a call, locally: the context object, the API Gateway REST proxy
event, and a function's environment as Lambda sets it."""

from __future__ import annotations

import base64
import os
import time
import uuid
from dataclasses import dataclass, field

from localcloud.stack import ACCOUNT, LOCAL_STAGE, REGION, function_environment


def apply_environment(function: str) -> dict[str, str]:
    """Set (where unset) the plain values of a function's environment, as Lambda would."""
    plain = function_environment(function)
    for name, value in plain.items():
        os.environ.setdefault(name, value)
    return plain


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as `context` (the fields Powertools reads)."""

    function_name: str = "local"
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    timeout_ms: int = 10_000
    invoked_function_arn: str = ""

    def __post_init__(self):
        self.invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{self.function_name}"
        )
        self._deadline = time.monotonic() + self.timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def rest_event(
    method: str,
    path: str,
    *,
    resource: str | None = None,
    query: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
    body: bytes | str | None = None,
    api_key_id: str | None = None,
    stage: str = LOCAL_STAGE,
) -> dict:
    """An API Gateway REST (v1) proxy event, as API Gateway builds it."""
    headers = dict(headers or {})
    query = query or {}
    encoded = False
    if isinstance(body, bytes):
        try:
            body = body.decode()
        except UnicodeDecodeError:
            body, encoded = base64.b64encode(body).decode(), True
    request_id = str(uuid.uuid4())
    return {
        "resource": resource or path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {name: [value] for name, value in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource or path,
            "httpMethod": method,
            "path": f"/{stage}{path}",
            "stage": stage,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "accountId": ACCOUNT,
            "apiId": "localapi00",
            "protocol": "HTTP/1.1",
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {
                "apiKeyId": api_key_id,
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", headers.get("user-agent")),
            },
        },
        "body": body,
        "isBase64Encoded": encoded,
    }
