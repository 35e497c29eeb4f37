"""A tiny stand-in for the gesture API (stdlib http.server) with scripted failures.

Stores events once per (device key, seq) like the real API (a retried event is the same item),
and records every request so tests can see retries. `script` is consumed one entry per
POST /events: "ok", an int status (e.g. 500), "timeout" (store, then answer too late) or
"drop" (close the connection without an answer).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeApi:
    def __init__(
        self, key="key-1", script=(), port=0, timeout_delay=1.5, keep_alive=False, max_per_conn=0
    ):
        self.key = key
        self.script = list(script)
        self.timeout_delay = timeout_delay
        # keep_alive: answer without `Connection: close`; max_per_conn > 0: silently close a
        # connection after that many requests (as servers do with idle or old connections)
        self.keep_alive = keep_alive
        self.max_per_conn = max_per_conn
        self.connections = 0
        self.events: list[dict] = []  # stored, once per seq, in arrival order
        self.telemetry: list[dict] = []
        self.samples: list[dict] = []
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
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
            seen = {e["seq"] for e in self.events}
            for event in body["events"]:
                if event["seq"] not in seen:
                    self.events.append(event)
                    seen.add(event["seq"])

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

            def _reply(self, status, body=b"", headers=None):
                api.requests.append((self.command, self.path, status))
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                if not api.keep_alive:
                    self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.served += 1
                limit = api.max_per_conn and self.served >= api.max_per_conn
                self.close_connection = not api.keep_alive or bool(limit)

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length))
                api.bodies.append((self.path, body))
                if self.headers.get("x-api-key") != api.key:
                    return self._reply(403, b'{"error":"Forbidden"}')
                if self.path == "/events":
                    action = api.script.pop(0) if api.script else "ok"
                    if action == "drop":
                        api.requests.append(("POST", self.path, 0))
                        self.close_connection = True
                        self.connection.close()
                        return None
                    if isinstance(action, int):
                        return self._reply(action, b'{"error":"boom"}')
                    api._store_events(body)
                    if action == "timeout":
                        time.sleep(api.timeout_delay)
                    return self._reply(200, b'{"accepted":1}')
                if self.path == "/telemetry":
                    api.telemetry.append(body)
                    return self._reply(200, b"{}")
                if self.path == "/samples":
                    api.samples.append(body)
                    return self._reply(201, b"{}")
                return self._reply(404, b"{}")

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
