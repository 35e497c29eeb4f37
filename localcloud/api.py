"""The API on localhost: HTTP -> API Gateway REST proxy events -> the real handlers, over moto.

    with LocalApi(port=0) as api:      # in-process moto unless aws=True; tables, bucket from infra
        key = api.add_device("dev-1")  # the device's API key value (header x-api-key)
        api.url                        # "http://127.0.0.1:<port>"
        api.publish_model(model_dir)   # GET /model serves it

Routes come from infra/functions.yml and tables from infra/storage.yml (one source of truth).
Like API Gateway, a private route without a valid key gets 403 before any handler runs; the key's
id goes to the handler as requestContext.identity.apiKeyId. S3 URLs in responses (presigned model
downloads) are rewritten to `<url>/_s3/<key>`, served here from the same bucket.

From a shell: `python -m localcloud.api --port 8000 --device dev-1 [--model DIR]` prints
the URL and each device's key and serves until Ctrl-C.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import traceback
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from localcloud.aws import local_aws
from localcloud.lambda_runtime import LambdaContext, apply_environment, rest_event
from localcloud.stack import SERVICE, load_routes

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024


class LocalApi:
    """A local HTTP server in front of the real handlers (see the module docstring)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1", aws: bool = False):
        self.host, self.port, self.aws = host, port, aws
        self.routes = load_routes()
        self._keys: dict[bytes, str] = {}  # sha256(key value) -> API key id
        self._lock = threading.Lock()  # handlers share module state (logger keys, metrics)
        self._stack = ExitStack()
        self._server = None

    # lifecycle
    def __enter__(self) -> LocalApi:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        from http.server import ThreadingHTTPServer

        for route in self.routes:
            apply_environment(route.function)
        self._stack = ExitStack()
        self._stack.enter_context(local_aws(self.aws))
        self._handlers = {(r.method, r.path): (r, r.load()) for r in self.routes}
        self._server = ThreadingHTTPServer((self.host, self.port), _make_request_handler(self))
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._stack.close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # provisioning
    def add_device(self, device_id: str, role: str = "device") -> str:
        """Register a device (or role="dashboard") and return its new API key value."""
        from functions import wiring
        from functions.domain.devices import Device

        key = secrets.token_urlsafe(30)
        key_id = secrets.token_hex(5)
        wiring.devices().register(key_id, Device(device_id=device_id, role=role))
        self._keys[hashlib.sha256(key.encode()).digest()] = key_id
        return key

    def publish_model(self, model_dir: str | Path) -> str:
        """Upload a model folder and make it the current model; returns its version."""
        from functions import wiring

        return wiring.models().publish(Path(model_dir))

    # request path
    def api_key_id(self, key: str | None) -> str | None:
        """The id of a presented key, compared in constant time; None if it is not valid."""
        if not key:
            return None
        digest = hashlib.sha256(key.encode()).digest()
        found = None
        for known, key_id in self._keys.items():
            if hmac.compare_digest(known, digest):
                found = key_id
        return found

    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple:
        """(status, headers, body bytes) for one HTTP request."""
        parts = urlsplit(target)
        path = "/" + unquote(parts.path).strip("/")
        if method == "GET" and path.startswith("/_s3/"):
            return self._s3_object(path.removeprefix("/_s3/"))
        match = self._handlers.get((method, path))
        if match is None:
            return _gateway_error(403, "Missing Authentication Token")
        route, handler = match
        key_id = self.api_key_id(_header(headers, "x-api-key"))
        if route.private and key_id is None:
            return _gateway_error(403, "Forbidden")
        if len(body) > API_GATEWAY_MAX_BODY:
            return _gateway_error(413, "Request Too Long")
        event = rest_event(
            method,
            path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body if body or method not in ("GET", "HEAD") else None,
            api_key_id=key_id,
        )
        context = LambdaContext(function_name=f"{SERVICE}-local-{route.function}")
        try:
            with self._lock:
                response = handler(event, context)
        except Exception:  # API Gateway answers 502 when the function fails
            traceback.print_exc()
            return _gateway_error(502, "Internal server error")
        return self._http_response(response)

    def _http_response(self, response: dict) -> tuple:
        out_headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            out_headers[name] = ", ".join(values)
        body = response.get("body") or ""
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        data = self._local_s3_urls(data)
        return response["statusCode"], out_headers, data

    def _local_s3_urls(self, data: bytes) -> bytes:
        from functions.settings import get_settings

        bucket = re.escape(get_settings().data_bucket)
        pattern = rf'https://{bucket}\.s3[.a-z0-9-]*\.amazonaws\.com/([^"?]+)\?[^"]*'
        return re.sub(pattern.encode(), lambda m: f"{self.url}/_s3/".encode() + m.group(1), data)

    def _s3_object(self, key: str) -> tuple:
        from functions import wiring
        from functions.settings import get_settings

        try:
            obj = wiring.s3().get_object(Bucket=get_settings().data_bucket, Key=key)
        except wiring.s3().exceptions.NoSuchKey:
            return _gateway_error(404, "NoSuchKey")
        return 200, {"Content-Type": "application/octet-stream"}, obj["Body"].read()


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _gateway_error(status: int, message: str) -> tuple:
    body = json.dumps({"message": message}).encode()
    return status, {"Content-Type": "application/json"}, body


def _make_request_handler(api: LocalApi):
    from http.server import BaseHTTPRequestHandler

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, headers, data = api.dispatch(self.command, self.path, dict(self.headers), body)
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        def log_message(self, format, *args) -> None:
            pass

    return RequestHandler


def main(argv: list[str] | None = None) -> int:
    """`python -m localcloud.api`: serve the API locally until Ctrl-C."""
    import argparse

    parser = argparse.ArgumentParser(description="The gesture-stack API on localhost, over moto.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--device", action="append", default=[], help="register a device key")
    parser.add_argument("--dashboard", action="store_true", help="register a dashboard key")
    parser.add_argument("--model", type=Path, help="publish this model folder")
    parser.add_argument("--aws", action="store_true", help="real AWS instead of moto")
    args = parser.parse_args(argv)
    with LocalApi(port=args.port, host=args.host, aws=args.aws) as api:
        print(f"gesture-stack API at {api.url}", flush=True)
        for device_id in args.device or ["dev-1"]:
            print(f"device {device_id}: x-api-key {api.add_device(device_id)}", flush=True)
        if args.dashboard:
            print(f"dashboard: x-api-key {api.add_device('dashboard', role='dashboard')}")
        if args.model:
            print(f"model {api.publish_model(args.model)} published", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0


if __name__ == "__main__":
    raise SystemExit(main())
