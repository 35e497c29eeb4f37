"""Helpers for the browser tests: `gesture-stack up` in a subprocess, devices provisioned
with `gesture-stack devices add`, a pipeline run with `gesture-stack pipeline`.

Training in the cloud's jobs (the starter model, the retrain job) uses the pipeline tests' fast
stand-in (tests/pipeline/fake_training.py); everything else is what a user runs.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dashboard import site

REPO = Path(__file__).resolve().parents[2]
CLI = str(Path(sys.executable).parent / "gesture-stack")
FAKE_TRAINING = "tests.pipeline.fake_training:FakeTraining"
GESTURES = ("circle", "x", "y")
UP_TIMEOUT_S = 300


def now_ms() -> int:
    return int(time.time() * 1000)


def call(url: str, key: str | None, body=None, method: str | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **({"x-api-key": key} if key else {})}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def cli(*args: str) -> str:
    env = {**os.environ, "PIPELINE_TRAINING_BACKEND": FAKE_TRAINING}
    result = subprocess.run(
        [CLI, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


@dataclass
class Fleet:
    """A running `gesture-stack up` and what was done to it."""

    url: str
    dashboard_url: str
    process: subprocess.Popen
    output: list[str] = field(default_factory=list)
    device_keys: dict[str, str] = field(default_factory=dict)
    next_seq: Counter = field(default_factory=Counter)

    @property
    def dashboard_key(self) -> str:
        """The key the local cloud hands its dashboard (GET /dashboard-config.json)."""
        return call(self.url + "/dashboard-config.json", None)[1]["key"]

    def add_device(self, name: str) -> str:
        out = cli("devices", "add", name, "--endpoint", self.url)
        self.device_keys[name] = re.search(r"\bkey=(\S+)", out).group(1)
        return self.device_keys[name]

    def post_events(self, name: str, n: int, gestures=GESTURES, minutes_ago: int = 40) -> None:
        """What a device sends: batches of gesture events with its own key."""
        start, first = now_ms() - minutes_ago * 60_000, self.next_seq[name]
        events = [
            {"seq": first + i, "gesture": gestures[(i * 7 + i // 3) % len(gestures)],
             "t_ms": start + i * 9_000, "score": 0.9, "model_version": "v1"}
            for i in range(n)
        ]  # fmt: skip
        self.next_seq[name] += n
        for at in range(0, n, 25):
            status, answer = call(
                self.url + "/events", self.device_keys[name], {"events": events[at : at + 25]}
            )
            assert status == 200, answer

    def post_heartbeat(self, name: str, **fields) -> None:
        beat = {"t_ms": now_ms() - 2000, "acc_rms": {"x": 0.11, "y": 0.07, "z": 9.81},
                "free_heap": 81_920, "uptime_s": 1200, "model_version": "v1",
                "queue_len": 1, "dropped": 0} | fields  # fmt: skip
        status, answer = call(self.url + "/telemetry", self.device_keys[name], beat)
        assert status == 200, answer

    def stored_counts(self) -> Counter:
        """(device, gesture) -> events the API stored, read back page by page (GET /events)."""
        found, cursor = Counter(), None
        while True:
            query = f"/events?limit=500&from={now_ms() - 86_400_000}"
            status, page = call(
                self.url + query + (f"&cursor={cursor}" if cursor else ""), self.dashboard_key
            )
            assert status == 200, page
            found.update((e["device_id"], e["gesture"]) for e in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                return found

    def current_model(self) -> str:
        key = next(iter(self.device_keys.values()))
        status, release = call(self.url + "/model", key)
        assert status == 200, release
        return release["version"]


def start_up(state: Path) -> Fleet:
    env = {**os.environ, "PIPELINE_TRAINING_BACKEND": FAKE_TRAINING, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [CLI, "up", "--port", "0", "--state", str(state)],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    lines: list[str] = []
    ready = threading.Event()

    def read():
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("local-cloud "):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(UP_TIMEOUT_S):
        stop(process)
        pytest.fail("gesture-stack up did not start:\n" + "\n".join(lines[-40:]))
    found = re.search(r"api=(\S+) dashboard=(\S+)", next(x for x in lines if "local-cloud" in x))
    return Fleet(found.group(1), found.group(2), process, lines)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


class CloudFrontLike:
    """The deployed layout on localhost: the site as dashboard/publish.py uploads it (config
    without a key, API on the same origin), and the dashboard's read paths passed to the API."""

    def __init__(self, api_url: str):
        self.api_url = api_url
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        api_url = self.api_url

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                answer = site.respond(self.path, api="", key=None)
                if answer is None:
                    answer = self._forward()
                status, headers, data = answer
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection", "transfer-encoding"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self):
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                request = urllib.request.Request(api_url + self.path, headers=headers)
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        return response.status, dict(response.headers), response.read()
                except urllib.error.HTTPError as error:
                    return error.code, dict(error.headers), error.read()

            def log_message(self, *args):
                pass

        return Handler
