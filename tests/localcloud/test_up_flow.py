"""The whole flow from the issue, as a user runs it: `up` -> `devices add` -> `device` ->
`pipeline --endpoint` collects the events -> `up` restarted still has them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from training.recordings import write_recording
from training.synthetic import generate_recording

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "gesture_stack.cli"]


class Up:
    """`gesture-stack up --port 0` as a subprocess: its URL and the lines it printed."""

    def __init__(self, state: Path):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [*CLI, "up", "--port", "0", "--state", str(state)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        first = self.proc.stdout.readline()  # after the starter model on a first start
        self.lines.append(first)
        found = re.fullmatch(r"local-cloud api=(\S+) dashboard=(\S+)\n", first)
        assert found, first + self.proc.stdout.read()
        self.url, self.dashboard = found.groups()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def gesture_stack(*args: str) -> str:
    result = subprocess.run([*CLI, *args], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def fleet_events(up: Up) -> list[dict]:
    with urllib.request.urlopen(f"{up.url}/dashboard-config.json", timeout=10) as response:
        key = json.loads(response.read())["key"]
    request = urllib.request.Request(
        f"{up.url}/events?device_id=dev-1&limit=100", headers={"x-api-key": key}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["items"]


def test_up_devices_device_pipeline_and_restart(tmp_path):
    samples, truth = generate_recording(4242, 40)
    recording = write_recording(tmp_path / "recording.csv", samples, truth)
    state, config = tmp_path / "state", tmp_path / "cfg.json"
    up = Up(state)
    try:
        assert up.dashboard == up.url + "/"
        gesture_stack("devices", "add", "dev-1", "--endpoint", up.url, "--config-out", str(config))
        out = gesture_stack(
            "device", "--config", str(config), "--recording", str(recording), "--drain-s", "10"
        )
        assert "pending=0" in out
        stored = fleet_events(up)
        assert stored and {e["device_id"] for e in stored} == {"dev-1"}
        collect = '{"run_data_collect": true, "run_data_process": false}'
        out = gesture_stack("pipeline", "--endpoint", up.url, "--input", collect)
        assert f"collected events={len(stored)} " in out
        assert any(re.match(r"POST /events device=dev-1 200 \d+ms", line) for line in up.lines)
    finally:
        assert up.stop() == 0
    again = Up(state)
    try:
        assert sorted(e["seq"] for e in fleet_events(again)) == sorted(e["seq"] for e in stored)
        listing = gesture_stack("devices", "list", "--endpoint", again.url)
        assert re.search(r"dev-1\trole=device\tenabled", listing)
        run_files = gesture_stack("pipeline", "--endpoint", again.url, "--input", collect)
        assert f"collected events={len(stored)} " in run_files
    finally:
        assert again.stop() == 0
