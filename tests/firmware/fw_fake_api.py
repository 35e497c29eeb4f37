"""A tiny stand-in for the gesture API (stdlib http.server) with scripted failures.

It STORES WHAT IT RECEIVES: every event of every POST /events it stores goes to `events`, in
arrival order, with no deduplication, so a device that sends an event twice shows up twice and
the tests count it. Its acknowledgement has the real API's shape (`accepted`, `first_seq`,
`last_seq`, `ids`). With `upstream` (the local API's URL) POSTs are forwarded to the real
handlers instead and the script only mangles the way back.

`script` is consumed one entry per POST /events:
  "ok"          store and acknowledge
  int           answer that status with the API's JSON error body, store nothing
  "timeout"     store, then answer too late (after timeout_delay)
  "lost"        store, then close the connection without an answer
  "drop"        close the connection without an answer, store nothing
  "html"        a captive portal: 200 text/html, store nothing
  "truncated"   store, then a 200 whose body stops short of its Content-Length
  "truncated-chunked"  store, then a chunked 200 cut off before its last chunk
  dict          {"status", "body" (bytes), "headers", "store" (bool)}: anything else
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORTAL = b"<html><body><h1>Welcome to Cafe WiFi</h1><a href='/login'>Log in</a></body></html>"


def acknowledgement(device_id: str, events: list[dict]) -> dict:
    """The real API's answer to a stored batch (functions.models.events.EventsAccepted)."""
    return {
        "device_id": device_id,
        "accepted": len(events),
        "first_seq": events[0]["seq"],
        "last_seq": events[-1]["seq"],
        "ids": [e["id"] for e in events if "id" in e],
    }


class FakeApi:
    def __init__(
        self,
        key="key-1",
        script=(),
        port=0,
        timeout_delay=1.5,
        keep_alive=False,
        max_per_conn=0,
        upstream=None,
        telemetry_script=(),
    ):
        self.key = key
        self.script = list(script)
        self.telemetry_script = list(telemetry_script)
        self.timeout_delay = timeout_delay
        self.upstream = upstream
        # keep_alive: answer without `Connection: close`; max_per_conn > 0: silently close a
        # connection after that many requests (as servers do with idle or old connections)
        self.keep_alive = keep_alive
        self.max_per_conn = max_per_conn
        self.connections = 0
        self.events: list[dict] = []  # every event stored, duplicates included, arrival order
        self.telemetry: list[dict] = []
        self.samples: list[dict] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self.times: list[tuple[float, str, int]] = []  # (monotonic s, path, status)
        self.bodies: list[tuple[str, dict]] = []  # (path, JSON body) of every POST
        self.model_release: dict | None = None
        self.model_files: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _store_events(self, body: dict) -> None:
        with self._lock:
            self.events.extend(body["events"])

    def _forward(self, path: str, raw: bytes, key: str | None) -> tuple[int, bytes, dict]:
        request = urllib.request.Request(
            self.upstream + path,
            data=raw,
            method="POST",
            headers={"x-api-key": key or "", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read(), dict(error.headers)

    def _handler(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                api.connections += 1
                self.served = 0

            def _log(self, status):
                api.requests.append((self.command, self.path, status))
                api.times.append((time.monotonic(), self.path, status))

            def _reply(self, status, body=b"", headers=None, length=None):
                self._log(status)
                self.send_response(status)
                headers = {"Content-Type": "application/json", **(headers or {})}
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection", "date", "server"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                if not api.keep_alive:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.served += 1
                limit = api.max_per_conn and self.served >= api.max_per_conn
                self.close_connection = not api.keep_alive or bool(limit) or length is not None

            def _hang_up(self, status=0):
                self._log(status)
                self.close_connection = True
                self.wfile.flush()
                self.connection.close()

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                body = json.loads(raw)
                api.bodies.append((self.path, body))
                key = self.headers.get("x-api-key")
                if api.upstream is None and key != api.key:
                    return self._reply(403, b'{"error":"forbidden","message":"bad key"}')
                if self.path == "/events":
                    return self._events(raw, body, key)
                if self.path == "/telemetry":
                    action = api.telemetry_script.pop(0) if api.telemetry_script else "ok"
                    if isinstance(action, int):
                        return self._reply(action, b'{"error":"boom","message":"scripted"}')
                    if api.upstream:
                        status, answer, headers = api._forward(self.path, raw, key)
                        if 200 <= status < 300:
                            api.telemetry.append(body)
                        return self._reply(status, answer, headers)
                    api.telemetry.append(body)
                    return self._reply(200, b'{"device_id":"dev-1","t_ms":%d}' % body["t_ms"])
                if self.path == "/samples":
                    if api.upstream:
                        return self._reply(*api._forward(self.path, raw, key))
                    api.samples.append(body)
                    return self._reply(201, b'{"device_id":"dev-1","key":"k","rows":1}')
                return self._reply(404, b'{"message":"Not Found"}')

            def _events(self, raw, body, key):
                action = api.script.pop(0) if api.script else "ok"
                if action == "drop":
                    return self._hang_up()
                if action == "html":
                    return self._reply(200, PORTAL, {"Content-Type": "text/html"})
                if isinstance(action, int):
                    error = b'{"error":"boom","message":"scripted failure"}'
                    return self._reply(action, error)
                if isinstance(action, dict) and not action.get("store", False):
                    return self._reply(action["status"], action["body"], action.get("headers"))
                # the API stores the batch: here, or the real handlers upstream
                if api.upstream:
                    status, answer, headers = api._forward(self.path, raw, key)
                    if 200 <= status < 300:
                        api._store_events(body)
                else:
                    api._store_events(body)
                    status, headers = 200, {}
                    answer = json.dumps(acknowledgement("dev-1", body["events"])).encode()
                if action == "lost":
                    return self._hang_up(status)
                if action == "timeout":
                    time.sleep(api.timeout_delay)
                if action == "truncated":
                    return self._reply(status, answer[: len(answer) // 2], headers, len(answer))
                if action == "truncated-chunked":
                    return self._chunked_cut(status, answer)
                if isinstance(action, dict):
                    return self._reply(action["status"], action["body"], action.get("headers"))
                return self._reply(status, answer, headers)

            def _chunked_cut(self, status, answer):
                self._log(status)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                half = answer[: len(answer) // 2]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))
                self.wfile.write(b"%x\r\n" % (len(answer) - len(half)))  # the rest never comes
                self._hang_up(status)

            def do_GET(self):
                if self.headers.get("x-api-key") != api.key and self.path.startswith("/model"):
                    return self._reply(403, b"{}")
                if self.path.startswith("/model"):
                    release = api.model_release
                    if release is None:
                        return self._reply(404, b'{"error":"NotFound"}')
                    etag = '"' + release["version"] + '"'
                    if self.headers.get("If-None-Match") == etag:
                        return self._reply(304, headers={"ETag": etag})
                    data = json.dumps(release).encode()
                    return self._reply(200, data, {"ETag": etag})
                if self.path.startswith("/files/"):
                    name = self.path[len("/files/") :]
                    if name in api.model_files:
                        return self._reply(200, api.model_files[name])
                return self._reply(404, b"{}")

        return Handler
