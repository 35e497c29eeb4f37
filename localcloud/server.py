"""The local cloud: the stack's API, its AWS services and the dashboard on one localhost port.

    with LocalCloud(port=0, state=Path("build/local")) as cloud:   # state=None: in memory
        key = cloud.add_device("dev-1")    # an API key in the usage plan + devices-table item
        cloud.url                          # "http://127.0.0.1:<port>"
        cloud.publish_model(model_dir)     # GET /model serves it

One port, three surfaces:

- **API Gateway** (what devices and the dashboard call): routes from infra/functions.yml run
  the real handlers with API Gateway REST proxy events. A private route needs an enabled API
  key attached to the stage's usage plan (403 `Forbidden` before any handler runs); its id
  reaches the handler as `requestContext.identity.apiKeyId`. Unknown paths and methods get
  API Gateway's 403 `Missing Authentication Token`; a bad `Content-Length` is a 400.
- **AWS** (what `gesture-stack devices|pipeline --endpoint` and the CodeBuild jobs call): a
  request signed with AWS SigV4 goes to moto (DynamoDB, S3, API Gateway, Step Functions,
  CodeBuild), as with `moto server`. Any credentials are accepted: it is a development
  endpoint and listens on 127.0.0.1 only. Model downloads use presigned URLs that are checked
  (signature, expiry) as S3 checks them; nothing else serves a bucket object.
- **Dashboard**: `dashboard/` at `/`, the browser libraries of `dashboard/vendor.json` under
  `/vendor/`, and `/dashboard-config.json` (the API base URL and a local dashboard key).

State (tables, bucket, keys) is kept in `state` across restarts (localcloud/state.py). The
pipeline's machines and projects are created at start; builds run as local processes
(localcloud/codebuild.py) against this same endpoint.
"""

from __future__ import annotations

import base64
import hmac
import io
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
import traceback
from contextlib import ExitStack, suppress
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from localcloud import moto_dynamodb, presign, site
from localcloud.lambda_runtime import LambdaContext, apply_environment, rest_event
from localcloud.moto_conditional_writes import atomic_conditional_writes
from localcloud.stack import (
    LOCAL_STAGE,
    REGION,
    SERVICE,
    create_storage,
    load_routes,
    usage_plan_name,
)
from localcloud.state import StateKeeper, restore

API_GATEWAY_MAX_BODY = 10 * 1024 * 1024
BODY_TIMEOUT_S = 5.0  # a client that sends less than its Content-Length gets a 400 after this
DASHBOARD_DEVICE = "local-dashboard"
_KNOWN_METHODS = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"}
_SIGV4 = "AWS4-HMAC-SHA256"


class BadRequest(Exception):
    """The HTTP request itself is malformed (API Gateway answers 400)."""


class LocalCloud:
    """See the module docstring."""

    def __init__(
        self,
        port: int = 0,
        host: str = "127.0.0.1",
        state: Path | None = None,
        log=None,
        snapshot_interval_s: float = 5.0,
        pipeline: bool = True,
        starter_model: bool = False,
    ):
        self.host, self.port = host, port
        self.state_dir = Path(state) if state is not None else None
        self.log = log  # one line per request, or None
        self.keeper = StateKeeper(self.state_dir, snapshot_interval_s)
        self.routes = load_routes()
        self.with_pipeline = pipeline
        self.starter_model = starter_model
        self.credentials = {"access_key": "LOCALCLOUD", "secret_key": secrets.token_hex(20)}
        self._stack = ExitStack()
        self._server = None

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> LocalCloud:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from http.server import ThreadingHTTPServer

        ThreadingHTTPServer.request_queue_size = 128  # 20+ clients connecting at once
        self._server = ThreadingHTTPServer((self.host, self.port), _request_handler(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        try:
            self._start_aws()
        except BaseException:
            self._server.server_close()
            self._stack.close()
            raise
        threading.Thread(target=self._server.serve_forever, name="http", daemon=True).start()

    def _start_aws(self) -> None:
        from moto import mock_aws
        from moto.server import DomainDispatcherApplication, create_backend_app

        from functions import wiring

        self._environment()
        mock = mock_aws(config={"stepfunctions": {"execute_state_machine": True}})
        mock.start()
        self._stack.callback(mock.stop)
        self._stack.enter_context(moto_dynamodb.patched_transactions())
        self._stack.enter_context(atomic_conditional_writes())  # promotion's If-Match
        if self.state_dir is not None:
            restore(self.state_dir)
        wiring.reset()
        self._stack.callback(wiring.reset)
        from functions.settings import get_settings

        settings = get_settings()
        create_storage(wiring.dynamodb(), wiring.s3(), settings.data_bucket, settings.region)
        self.usage_plan_id = self._ensure_usage_plan()
        self.keys = self._device_keys()
        self._handlers = {(r.method, r.path): (r, r.load()) for r in self.routes}
        self._quiet_handler_logs()
        self._aws_app = DomainDispatcherApplication(create_backend_app)
        if self.with_pipeline:
            self._start_pipeline(settings.data_bucket)
        self.dashboard_key = self._ensure_dashboard_key()
        if self.starter_model and wiring.models().current_version() is None:
            self._publish_starter_model()
        self.keeper.start()
        self._stack.callback(self.keeper.close)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._stack.close()

    def _environment(self) -> None:
        """What Lambda sets for the functions, and this cloud's own credentials (so nothing is
        ever signed with the caller's real AWS credentials)."""
        for route in self.routes:
            apply_environment(route.function)
        os.environ.update(
            AWS_ACCESS_KEY_ID=self.credentials["access_key"],
            AWS_SECRET_ACCESS_KEY=self.credentials["secret_key"],
            AWS_DEFAULT_REGION=REGION,
            AWS_REGION=REGION,
        )
        os.environ.pop("AWS_SESSION_TOKEN", None)
        os.environ.pop("AWS_ENDPOINT_URL", None)
        os.environ.pop("AWS_PROFILE", None)
        for name in ("POWERTOOLS_METRICS_DISABLED", "POWERTOOLS_TRACE_DISABLED"):
            os.environ.setdefault(name, "true")

    def _quiet_handler_logs(self) -> None:
        """Handler logs go to <state>/lambda.log (CloudWatch's place), not the request log."""
        from functions import api

        target = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the cloud
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            target = open(self.state_dir / "lambda.log", "a")  # noqa: SIM115
        self._stack.callback(target.close)
        for handler in api.logger.handlers:
            if hasattr(handler, "setStream"):
                previous = _swap_stream(handler, target)
                self._stack.callback(_swap_stream, handler, previous)

    def _ensure_usage_plan(self) -> str:
        from functions import wiring

        apigw = wiring._session().create_client("apigateway", region_name=REGION)
        name = usage_plan_name(LOCAL_STAGE)
        for plan in apigw.get_usage_plans()["items"]:
            if plan["name"] == name:
                return plan["id"]
        return apigw.create_usage_plan(name=name)["id"]

    def _device_keys(self):
        from functions import wiring
        from functions.adapters.device_keys import DeviceKeys
        from functions.settings import get_settings

        apigw = wiring._session().create_client("apigateway", region_name=REGION)
        return DeviceKeys(
            apigw,
            wiring.dynamodb(),
            get_settings().devices_table,
            self.usage_plan_id,
            f"{SERVICE}-{LOCAL_STAGE}",
        )

    def _ensure_dashboard_key(self) -> str:
        for record in self.keys.list():
            if record.device_id == DASHBOARD_DEVICE and record.enabled:
                return self.keys.value(record.api_key_id)
        return self.keys.add(DASHBOARD_DEVICE, role="dashboard").value

    def _start_pipeline(self, bucket: str) -> None:
        from localcloud.stepfunctions import create_local_pipeline

        logs = sys.stderr if self.state_dir is None else None
        if self.state_dir is not None:
            logs = open(self.state_dir / "codebuild.log", "a")  # noqa: SIM115
            self._stack.callback(logs.close)
        self._stack.enter_context(
            create_local_pipeline(self.url, bucket, log=lambda line: print(line, file=logs))
        )

    def _publish_starter_model(self) -> None:
        """A new cloud has no model for devices to fetch: train one as the retrain job would
        with no device data yet (synthetic recordings, the tiny grid; ~30 s, first start only).
        PIPELINE_TRAINING_BACKEND picks another backend, as for the job."""
        import contextlib
        import tempfile

        from pipeline.training_backend import load_backend

        log = self.state_dir / "starter-model.log" if self.state_dir else Path(os.devnull)
        with tempfile.TemporaryDirectory(prefix="starter-model-") as tmp, open(log, "a") as out:
            with contextlib.redirect_stdout(out):
                folder = Path(tmp)
                backend = load_backend()
                training = backend.parse({"grid": "tiny", "recordings": 6, "duration_s": 60})
                manifest = backend.train(None, folder / "model", folder / "layers", training)
            self.publish_model(folder / "model", manifest.model_dump(by_alias=True))

    # -- provisioning shortcuts (tests, demo) -------------------------------------------------
    def add_device(self, device_id: str, role: str = "device") -> str:
        """Provision a device (or role="dashboard") and return its new API key value."""
        with self.keeper.lock.shared():
            issued = self.keys.add(device_id, role)
        self.keeper.changed()
        return issued.value

    def publish_model(self, model_dir: str | Path, manifest: dict | None = None) -> str:
        """Upload a model folder and make it the current model; returns its version.
        `manifest`: the folder's manifest as training returned it (read from it if not given)."""
        from functions import wiring

        with self.keeper.lock.shared():
            version = wiring.models().publish(Path(model_dir), manifest)
        self.keeper.changed()
        return version

    # -- requests -----------------------------------------------------------------------------
    def api_key_id(self, key: str | None) -> str | None:
        """The id of an enabled key in the usage plan, compared in constant time; else None."""
        if not key:
            return None
        from moto.backends import get_backend

        backend = get_backend("apigateway")[_account()][REGION]
        attached = backend.usage_plan_keys.get(self.usage_plan_id, {})
        found = None
        for key_id, api_key in list(backend.keys.items()):
            same = hmac.compare_digest(api_key.value.encode(), key.encode())
            if same and api_key.enabled and key_id in attached:
                found = key_id
        return found

    def serve(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple:
        """(status, headers, body bytes, caller) for one HTTP request; caller is the device id
        (API), `aws:<service>` (AWS endpoint) or None."""
        parts = urlsplit(target)
        if _is_aws_request(headers):
            with self.keeper.lock.shared():
                response = self._aws(method, parts, headers, body)
            if method not in ("GET", "HEAD"):
                self.keeper.changed()
            return (*response, f"aws:{_aws_service(headers)}")
        if method in ("GET", "HEAD") and presign.is_presigned(parts.query):
            return (*self._presigned_object(method, parts, headers), None)
        path = "/" + unquote(parts.path).strip("/")
        if (method, path) not in self._handlers:
            if method in ("GET", "HEAD"):
                found = site.serve(path, self.dashboard_config)
                if found is not None:
                    return (*found, None)
            return (*_gateway_error(403, "Missing Authentication Token"), None)
        route, handler = self._handlers[(method, path)]
        key_id = self.api_key_id(_header(headers, "x-api-key"))
        if route.private and key_id is None:
            return (*_gateway_error(403, "Forbidden"), None)
        event = rest_event(
            method,
            path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=body if body or method not in ("GET", "HEAD") else None,
            api_key_id=key_id,
        )
        context = LambdaContext(function_name=f"{SERVICE}-{LOCAL_STAGE}-{route.function}")
        try:
            with self.keeper.lock.shared():
                response = handler(event, context)
        except Exception:  # API Gateway answers 502 when the function fails
            traceback.print_exc()
            return (*_gateway_error(502, "Internal server error"), self._device(key_id))
        if method != "GET":
            self.keeper.changed()
        return (*self._http_response(response), self._device(key_id))

    def dashboard_config(self) -> dict:
        return {"api": self.url, "key": self.dashboard_key}

    def _device(self, key_id: str | None) -> str | None:
        if key_id is None:
            return None
        from functions import wiring

        device = wiring.devices().lookup(key_id)
        return device.device_id if device else None

    def _http_response(self, response: dict) -> tuple:
        out_headers = dict(response.get("headers") or {})
        for name, values in (response.get("multiValueHeaders") or {}).items():
            out_headers[name] = ", ".join(values)
        body = response.get("body") or ""
        data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
        return response["statusCode"], out_headers, self._local_presigned_urls(data)

    def _local_presigned_urls(self, data: bytes) -> bytes:
        """S3 presigned URLs in a response become URLs of this cloud, signed by it."""
        from functions.settings import get_settings

        bucket = re.escape(get_settings().data_bucket)
        pattern = rf'https://{bucket}\.s3[.a-z0-9-]*\.amazonaws\.com/([^"?]+)\?([^"]*)'
        return re.sub(pattern.encode(), self._resign, data)

    def _resign(self, match: re.Match) -> bytes:
        from functions.settings import get_settings

        expires = parse_qs(match.group(2).decode()).get("X-Amz-Expires", ["300"])[0]
        url = self._presigner().generate_presigned_url(
            "get_object",
            Params={"Bucket": get_settings().data_bucket, "Key": unquote(match.group(1).decode())},
            ExpiresIn=int(expires),
        )
        return url.encode()

    def _presigner(self):
        import botocore.session
        from botocore.config import Config

        if not hasattr(self, "_presign_client"):
            session = botocore.session.Session()
            session.set_credentials(self.credentials["access_key"], self.credentials["secret_key"])
            self._presign_client = session.create_client(
                "s3",
                region_name=REGION,
                endpoint_url=self.url,
                config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
            )
        return self._presign_client

    def _presigned_object(self, method: str, parts, headers: dict[str, str]) -> tuple:
        from functions import wiring

        try:
            # signed for this server's own authority (the Host header of small clients, like
            # the firmware's, may leave the port out)
            authority = f"{self.host}:{self.port}"
            presign.verify(method, parts.path, parts.query, authority, self.credentials)
        except presign.PresignError as exc:
            return _s3_error(403, "AccessDenied", str(exc))
        bucket, _, key = unquote(parts.path).lstrip("/").partition("/")
        try:
            with self.keeper.lock.shared():
                obj = wiring.s3().get_object(Bucket=bucket, Key=key)
        except (wiring.s3().exceptions.NoSuchKey, wiring.s3().exceptions.NoSuchBucket):
            return _s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return 200, {"Content-Type": "application/octet-stream"}, obj["Body"].read()

    def _aws(self, method: str, parts, headers: dict[str, str], body: bytes) -> tuple:
        environ = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(parts.path),
            "RAW_URI": parts.path + (f"?{parts.query}" if parts.query else ""),
            "QUERY_STRING": parts.query,
            "SERVER_NAME": self.host,
            "SERVER_PORT": str(self.port),
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "CONTENT_LENGTH": str(len(body)),
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            if key == "CONTENT_TYPE":
                environ["CONTENT_TYPE"] = value
            elif key != "CONTENT_LENGTH":
                environ[f"HTTP_{key}"] = value
        status_holder = {}

        def start_response(status, response_headers, exc_info=None):
            status_holder["status"] = int(status.split()[0])
            status_holder["headers"] = response_headers

        chunks = self._aws_app(environ, start_response)
        try:
            data = b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        return status_holder["status"], dict(status_holder["headers"]), data


def _account() -> str:
    from moto.core import DEFAULT_ACCOUNT_ID

    return DEFAULT_ACCOUNT_ID


def _aws_service(headers: dict[str, str]) -> str:
    """The service a SigV4 request is signed for (Credential=<key>/<day>/<region>/<service>/...)."""
    found = re.search(r"Credential=[^/]*/[^/]*/[^/]*/([^/]*)/", _header(headers, "authorization"))
    return found.group(1) if found else "?"


def _is_aws_request(headers: dict[str, str]) -> bool:
    return (_header(headers, "authorization") or "").startswith(_SIGV4)


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


def _gateway_error(status: int, message: str) -> tuple:
    body = json.dumps({"message": message}).encode()
    return status, {"Content-Type": "application/json"}, body


def _s3_error(status: int, code: str, message: str) -> tuple:
    body = (
        f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
        f"<Message>{message}</Message></Error>"
    ).encode()
    return status, {"Content-Type": "application/xml"}, body


def read_body(headers, stream) -> bytes:
    """The request body per Content-Length, as API Gateway reads it: a malformed length, or a
    body shorter than it says (the socket times out), is a BadRequest; too long is a 413."""
    raw = headers.get("Content-Length")
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        raise BadRequest("chunked request bodies are not supported: send Content-Length")
    if raw is None:
        return b""
    if not raw.strip().isdigit():
        raise BadRequest("Content-Length must be a non-negative integer")
    length = int(raw)
    if length > API_GATEWAY_MAX_BODY:
        raise OverflowError
    data = b""
    try:
        while len(data) < length:
            chunk = stream.read(length - len(data))
            if not chunk:
                break
            data += chunk
    except TimeoutError:
        pass
    if len(data) < length:
        raise BadRequest("the body is shorter than its Content-Length")
    return data


def _request_handler(cloud: LocalCloud):
    from http.server import BaseHTTPRequestHandler

    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms wait
        timeout = 60  # idle keep-alive connections; the body read has its own, shorter one

        def __getattr__(self, name: str):
            if name.startswith("do_"):  # any method: API Gateway answers it, never 501
                return self._serve
            raise AttributeError(name)

        def _serve(self) -> None:
            started = time.perf_counter()
            device = None
            try:
                self.connection.settimeout(BODY_TIMEOUT_S)
                body = read_body(self.headers, self.rfile)
                self.connection.settimeout(self.timeout)
                if self.command.upper() not in _KNOWN_METHODS:
                    status, headers, data = _gateway_error(403, "Missing Authentication Token")
                else:
                    status, headers, data, device = cloud.serve(
                        self.command, self.path, dict(self.headers), body
                    )
            except BadRequest as exc:
                self.close_connection = True
                status, headers, data = _gateway_error(400, str(exc))
            except OverflowError:
                self.close_connection = True
                status, headers, data = _gateway_error(413, "Request Too Long")
            if cloud.log is not None:  # before the answer: a client that got it sees its line
                ms = (time.perf_counter() - started) * 1000
                path = urlsplit(self.path).path
                cloud.log(f"{self.command} {path} device={device or '-'} {status} {ms:.0f}ms")
            self._send(status, headers, data)

        def _send(self, status: int, headers: dict, data: bytes) -> None:
            self.send_response_only(status)
            self.send_header("Date", self.date_time_string())
            for name, value in headers.items():
                if name.lower() not in ("content-length", "connection", "date", "server"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                with suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

        def log_message(self, format, *args) -> None:
            pass

    return RequestHandler


def main(argv: list[str] | None = None) -> int:
    """`python -m localcloud.server`: what `gesture-stack up` runs."""
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m localcloud.server", description="The gesture-stack cloud on localhost."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port, 0: any (default: 8000)")
    parser.add_argument(
        "--state", type=Path, default=Path("build") / "local", help="(default: build/local)"
    )
    args = parser.parse_args(argv)
    return serve_forever(args.host, args.port, args.state)


def serve_forever(host: str, port: int, state: Path) -> int:
    """Start, print the one `local-cloud` line, log requests until Ctrl-C or SIGTERM."""
    import signal

    def log(line: str) -> None:
        print(line, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    cloud = LocalCloud(port=port, host=host, state=state, log=log, starter_model=True)
    try:
        cloud.start()
    except OSError as exc:  # the port is taken, most likely
        print(f"gesture-stack up: cannot listen on {host}:{port}: {exc.strerror or exc}")
        print("(--port 0 picks a free port)")
        return 2
    try:
        print(f"local-cloud api={cloud.url} dashboard={cloud.url}/", flush=True)
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        cloud.stop()  # saves the state
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


def _swap_stream(handler: logging.StreamHandler, stream):
    """Point a handler at `stream` and return the old one, without flushing it first (unlike
    setStream): the old stream may be closed already (a test's captured stderr)."""
    with handler.lock:
        previous, handler.stream = handler.stream, stream
    return previous
