"""OTA test kit: model sources that load fine but misbehave on real windows, a model-file
server that can drip, lie about lengths or answer errors, a fake API that serves a sequence of
releases, and the accounting every OTA scenario checks (queued vs stored, the model kept)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from fw_fake_api import FakeApi
from fw_harness import (
    FIRMWARE,
    MICROPYTHON,
    MP_TESTS,
    RULES_MODEL,
    compile_mpy,
    micropython_env,
    queued,
    queued_events,
    rules_manifest,
    tally,
)

# All of these pass the install check (a zero window, as check_model scores it) and import
# fine; they misbehave only on real windows (any non-zero stat). "hangs" never returns.
_WRAP = "\n_score = score\n\ndef score(w, b, f, o):\n    if any(v != 0 for v in f):\n"
_THEN = "    return _score(w, b, f, o)\n"
MISBEHAVING = {
    "raises": RULES_MODEL
    + _WRAP
    + "        raise ValueError('cannot score this window')\n"
    + _THEN,
    "nan": RULES_MODEL + _WRAP + "        o[0] = float('nan')\n        return o\n" + _THEN,
    "wrong-length": RULES_MODEL + _WRAP + "        o.append(0)\n        return o\n" + _THEN,
    "not-numbers": RULES_MODEL + _WRAP + "        o[0] = 'idle'\n        return o\n" + _THEN,
    "hangs": RULES_MODEL + _WRAP + "        while True:\n            pass\n" + _THEN,
    "too-slow": "import time\n" + RULES_MODEL + _WRAP + "        time.sleep_ms(60)\n" + _THEN,
}
HANGS_AT_IMPORT = "while True:\n    pass\n\n" + RULES_MODEL
# Same length as RULES_MODEL, a different threshold: loads and scores fine.
OTHER_GOOD = RULES_MODEL.replace("f[16] > ", "f[16] >=")
assert len(OTHER_GOOD) == len(RULES_MODEL) and OTHER_GOOD != RULES_MODEL


def mpy(tmp: Path, source: str, name: str = "m") -> bytes:
    """mpy-cross of `source`."""
    src = tmp / f"{name}.py"
    src.write_text(source)
    compile_mpy(src, tmp / f"{name}.mpy")
    return (tmp / f"{name}.mpy").read_bytes()


def padded(source: str, size: int) -> str:
    """`source` plus string constants making its .mpy about `size` bytes (a realistic model;
    mpy-cross drops comments, so the padding is data)."""
    lines = [f'_PAD{i} = "{i:05d}{"x" * 64}"\n' for i in range(size // 72)]
    return source + "".join(lines)


def release(version: str, served_url: str, data: bytes, name: str = "model.mpy") -> dict:
    """A well-formed GET /model answer for `data` (hash and size in release and manifest)."""
    manifest = rules_manifest(RULES_MODEL.encode(), version=version)
    entry = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    manifest["files"] = {name: dict(entry)}
    return {
        "version": version,
        "manifest": manifest,
        "file": {"name": name, "url": served_url, **entry},
    }


class ReleaseApi(FakeApi):
    """FakeApi whose n-th GET /model serves releases[n] (the last one from then on)."""

    def __init__(self, releases: list[dict | None], **kwargs):
        self.releases = releases
        super().__init__(**kwargs)

    @property
    def model_release(self):
        n = sum(1 for r in self.requests if r[0] == "GET" and r[1] == "/model")
        return self.releases[min(n, len(self.releases) - 1)] if self.releases else None

    @model_release.setter
    def model_release(self, value):
        if value is not None:
            self.releases = [value]


class FileServer:
    """Serves `files[name]` at /<name>: `status` per name, `rate` (bytes/s, dripped in 16-byte
    pieces; 0 = at once), `length` (Content-Length to announce; None = the real one, False =
    none, close-delimited), `repeat` (serve the data this many times: an oversized answer)."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.status: dict[str, int] = {}
        self.rate = 0
        self.length: int | bool | None = None
        self.repeat = 1
        self.served: list[tuple[str, int, int]] = []  # (name, status, bytes written)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                data = server.files.get(name)
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    server.served.append((name, 404, 0))
                    return
                data = data * server.repeat
                status = server.status.get(name, 200)
                self.send_response(status)
                if server.length is None:
                    self.send_header("Content-Length", str(len(data)))
                elif server.length is not False:
                    self.send_header("Content-Length", str(server.length))
                self.send_header("Connection", "close")
                self.end_headers()
                written = 0
                try:
                    piece = 16 if server.rate else 65536
                    for i in range(0, len(data), piece):
                        self.wfile.write(data[i : i + piece])
                        self.wfile.flush()
                        written += len(data[i : i + piece])
                        if server.rate:
                            time.sleep(piece / server.rate)
                except OSError:  # the device hung up (deadline, refused)
                    pass
                server.served.append((name, status, written))
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def requests_for(self, name: str) -> int:
        return sum(1 for n, _, _ in self.served if n == name)


def run_until_killed(cwd: Path, marker: str, grace_s: float = 1.5, timeout: float = 60) -> str:
    """Run firmware/main.py; once `marker` is printed, let it run `grace_s` more and kill it, as
    the watchdog resets a board whose loop stopped. Returns the output (the run must hang)."""
    proc = subprocess.Popen(
        [str(MICROPYTHON), str(FIRMWARE / "main.py"), "config.json"],
        cwd=cwd,
        env=micropython_env(MP_TESTS),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    seen = threading.Event()

    def reader():
        for line in proc.stdout:
            lines.append(line)
            if marker in line:
                seen.set()

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        assert seen.wait(timeout), "".join(lines)
        time.sleep(grace_s)
        assert proc.poll() is None, "the run was expected to hang:\n" + "".join(lines)
    finally:
        proc.kill()
        proc.wait()
        thread.join(5)
    return "".join(lines)


def version_in(folder: Path) -> str | None:
    path = folder / "manifest.json"
    return json.loads(path.read_text())["version"] if path.exists() else None


def trial_state(tmp: Path) -> dict:
    path = tmp / "model.trial.json"
    return json.loads(path.read_text()) if path.exists() else {"trying": None, "bad": []}


def accounting(outputs: list[str], stored: list[dict]) -> dict:
    """Events queued (all runs) against events stored, by event id (fw_harness.tally)."""
    ids = [e["id"] for out in outputs for e in queued_events(out)]
    return tally(ids, [e["id"] for e in stored])


def report(name: str, outputs: list[str], stored: list[dict], tmp: Path) -> dict:
    """Print the scenario line the firmware README's OTA table comes from; the numbers."""
    numbers = accounting(outputs, stored)
    print(
        f"scenario {name} queued={numbers['queued']} stored={numbers['stored']}"
        f" lost={numbers['lost']} duplicated={numbers['duplicated']}"
        f" model={version_in(tmp / 'model')}"
    )
    return numbers


def versions_of_events_after(out: str, line: str, api: FakeApi) -> set[str]:
    """model_version of the stored events queued after `line` in this run's output."""
    after = out.split(line, 1)[1]
    seqs = {q[0] for q in queued(after)}
    return {e["model_version"] for e in api.events if e["seq"] in seqs}
