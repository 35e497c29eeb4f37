"""A local cloud for the browser tests: the dashboard site and the API on one origin.

Until `gesture-stack up` serves the page, a tiny HTTP server answers dashboard paths with
dashboard.site.respond and hands every other request to gesture_stack.localapi.LocalApi.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dashboard import site
from gesture_stack.localapi import LocalApi


class Cloud:
    """The page and the API at `url`; `key` is what dashboard-config.json hands the page."""

    def __init__(self, api: LocalApi, config_key: bool):
        self.api = api
        self.dashboard_key = api.add_device("dashboard", role="dashboard")
        self.config_key = self.dashboard_key if config_key else None
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def call(self, method: str, path: str, key: str, body=None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"x-api-key": key, "Content-Type": "application/json"},
        )  # fmt: skip
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def _handler(self):
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                answer = None
                if self.command == "GET":
                    answer = site.respond(self.path, api="", key=cloud.config_key)
                if answer is None:
                    answer = cloud.api.dispatch(self.command, self.path, dict(self.headers), body)
                status, headers, data = answer
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def local_cloud():
    """Factory: a started Cloud (config_key=False: the page must ask for the key)."""
    clouds: list[Cloud] = []
    with LocalApi(port=0) as api:

        def make(config_key: bool = True) -> Cloud:
            clouds.append(Cloud(api, config_key))
            return clouds[-1]

        yield make
        for cloud in clouds:
            cloud.close()


def now_ms() -> int:
    return int(time.time() * 1000)


def http_status(url: str, key: str | None = None) -> int:
    request = urllib.request.Request(url, headers={"x-api-key": key} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
