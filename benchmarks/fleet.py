"""A fleet against the local cloud: simulated devices (the firmware under micropython, one
process each) and plain HTTP clients at once, for a bounded time.

    .venv/bin/python -m benchmarks.fleet [--devices 50] [--clients 10] [--seconds 60]
        [--recording-s 20] [--write]

The local cloud's server runs in a process of its own (as `gesture-stack up` does). A tiny
model is trained once and published; every device boots with it and replays its own synthetic
recording (different seeds), posting the events it detects. Meanwhile `--clients` threads
POST one event per request (as a device sends them) for at least `--seconds`, and until the
last device has delivered everything. Reported:
events stored per second, p50/p99 latency and 5xx of the clients' requests, and, per device,
events lost and stored twice: what the cloud stored for the device against what `detect` (the
same detection chain under CPython) finds in its recording. Targets (50 devices): 0 lost,
0 stored twice, 0 5xx.
"""

from __future__ import annotations

import argparse
import difflib
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.localcloud_load import percentile, provision

REPO = Path(__file__).resolve().parents[1]
SERVER = """
import sys
from pathlib import Path
from localcloud.server import LocalCloud
with LocalCloud(port=0, state=Path(sys.argv[1]), pipeline=False, log=lambda line: None) as c:
    c.publish_model(sys.argv[2])
    print(c.url, flush=True)
    sys.stdin.read()
"""


def train_model(folder: Path) -> Path:
    from pipeline.training_backend import load_backend

    backend = load_backend("pipeline.training_backend:GestureTraining")
    training = backend.parse({"grid": "tiny", "recordings": 4, "duration_s": 60})
    backend.train(None, folder / "model", folder / "layers", training)
    return folder / "model"


def recordings(folder: Path, count: int, seconds: float) -> list[Path]:
    from training.recordings import write_recording
    from training.synthetic import generate_recording

    paths = []
    for i in range(count):
        samples, events = generate_recording(5000 + i, seconds)
        paths.append(write_recording(folder / f"device-{i:02d}.csv", samples, events))
    return paths


def expected_gestures(model: Path, recording: Path) -> list[str]:
    from training.detect import detect_samples
    from training.recordings import read_recording

    return [e["gesture"] for e in detect_samples(model, read_recording(recording))]


def stored_events(url: str, device_id: str) -> list[dict]:
    import boto3
    from boto3.dynamodb.conditions import Key

    from localcloud.stack import LOCAL_STAGE, REGION, table_names
    from localcloud.stepfunctions import ENDPOINT_CREDENTIALS

    table = boto3.resource(
        "dynamodb", endpoint_url=url, region_name=REGION, **ENDPOINT_CREDENTIALS
    ).Table(table_names(LOCAL_STAGE)["EventsTable"])
    items, start = [], {}
    while True:
        page = table.query(KeyConditionExpression=Key("device_id").eq(device_id), **start)
        items += [i for i in page["Items"] if "gesture" in i]  # id markers have none
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda i: (int(i["t_ms"]), int(i["seq"])))
        start = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def compare(expected: list[str], stored: list[dict]) -> tuple[int, int]:
    """(lost, stored twice): the stored gestures in time order aligned with the detected ones;
    an id stored twice counts as twice even where the gestures align."""
    got = [i["gesture"] for i in stored]
    matched = sum(
        b.size for b in difflib.SequenceMatcher(None, expected, got).get_matching_blocks()
    )
    ids = [i.get("id") for i in stored if i.get("id")]
    twice = max(len(got) - matched, len(ids) - len(set(ids)))
    return len(expected) - matched, twice


class HttpClient:
    """A plain client posting one event per request as a device does, on one connection."""

    def __init__(self, url: str, key: str, device_id: str):
        host, _, port = url.removeprefix("http://").partition(":")
        self.address = (host, int(port))
        self.conn = http.client.HTTPConnection(*self.address, timeout=60)
        self.key, self.device_id, self.seq = key, device_id, 0
        self.latency_ms: list[float] = []
        self.statuses: list[int] = []

    def post(self) -> None:
        self.seq += 1
        event = {
            "id": f"1-{self.seq}",
            "seq": self.seq,
            "gesture": ("circle", "x", "y")[self.seq % 3],
            "t_ms": int(time.time() * 1000),
            "score": 0.9,
            "model_version": "bench",
        }
        body = json.dumps({"events": [event]})
        headers = {"Content-Type": "application/json", "x-api-key": self.key}
        started = time.perf_counter()
        try:
            self.conn.request("POST", "/events", body=body, headers=headers)
            response = self.conn.getresponse()
            response.read()
            status = response.status
        except OSError:
            status = 599  # a reset or refused connection counts with the 5xx
            self.conn = http.client.HTTPConnection(*self.address, timeout=60)
        self.latency_ms.append((time.perf_counter() - started) * 1000)
        self.statuses.append(status)  # a failed request is counted, not retried


def run_device(url: str, key: str, recording: Path, model: Path, state: Path) -> int:
    cmd = [str(REPO / ".venv/bin/gesture-stack"), "device", "--api", url, "--key", key]
    cmd += ["--recording", str(recording), "--model", str(model), "--state", str(state)]
    cmd += ["--drain-s", "30"]
    log = (state.parent / f"{state.name}.log").open("w")
    return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT).returncode


def run(devices: int, clients: int, seconds: float, recording_s: float, work: Path) -> dict:
    model = train_model(work / "train")
    paths = recordings(work / "recordings", devices, recording_s)
    expected = [expected_gestures(model, p) for p in paths]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(work / "state"), str(model)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        url = server.stdout.readline().strip()
        keys = provision(url, devices + clients)  # bench-00 .. : devices first, then clients
        device_ids = [f"bench-{i:02d}" for i in range(devices + clients)]
        http_clients = [
            HttpClient(url, keys[devices + c], device_ids[devices + c]) for c in range(clients)
        ]
        stop = threading.Event()

        def load(client: HttpClient) -> None:
            while not stop.is_set():
                client.post()

        started = time.perf_counter()
        threads = [threading.Thread(target=load, args=(c,)) for c in http_clients]
        for thread in threads:
            thread.start()
        with ThreadPoolExecutor(devices) as pool:
            codes = list(
                pool.map(
                    lambda i: run_device(url, keys[i], paths[i], model, work / f"dev-{i:02d}"),
                    range(devices),
                )
            )
        remaining = seconds - (time.perf_counter() - started)
        if remaining > 0:
            time.sleep(remaining)
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        lost = twice = 0
        for i in range(devices):
            a, b = compare(expected[i], stored_events(url, device_ids[i]))
            lost, twice = lost + a, twice + b
        client_stored = sum(len(stored_events(url, c.device_id)) for c in http_clients)
        client_ok = sum(s == 200 for c in http_clients for s in c.statuses)
        latencies = [ms for c in http_clients for ms in c.latency_ms]
        fivexx = sum(s >= 500 for c in http_clients for s in c.statuses)
    finally:
        server.stdin.close()
        server.wait(timeout=60)
    device_events = sum(len(e) for e in expected)
    return {
        "devices": devices,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "device_events_expected": device_events,
        "device_exit_codes_nonzero": sum(1 for c in codes if c != 0),
        "lost": lost,
        "stored_twice": twice,
        "client_requests": len(latencies),
        "client_stored": client_stored,
        "client_lost": client_ok - client_stored,
        "events_per_s": round((client_stored + device_events - lost) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.50), 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 0.99), 1) if latencies else None,
        "5xx": fivexx,
    }


def section(result: dict, command: str) -> str:
    r = result
    return f"""## Fleet on the local cloud

`{command}` (the local cloud's server in its own process, {r["devices"]} devices: the firmware
under micropython, one process each, replaying their own synthetic recording; {r["clients"]}
plain HTTP clients posting one event a request at the same time, for at least `--seconds` and
until the last device is done: {r["seconds"]} s in all, on this shared 2-core machine, so the
latencies are those of a saturated machine, not of the server):

| measure | value | target |
| --- | ---: | ---: |
| events stored per second (devices + clients) | {r["events_per_s"]} | |
| client POST /events p50 / p99 | {r["p50_ms"]} / {r["p99_ms"]} ms | |
| 5xx (or reset connections) of {r["client_requests"]} client requests | {r["5xx"]} | 0 |
| device events detected by `detect` in the recordings | {r["device_events_expected"]} | |
| device events lost | {r["lost"]} | 0 |
| device events stored twice | {r["stored_twice"]} | 0 |
| client events acknowledged but not stored | {r["client_lost"]} | 0 |
| devices that ended with events still queued | {r["device_exit_codes_nonzero"]} | 0 |
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--recording-s", type=float, default=20.0)
    parser.add_argument("--write", action="store_true", help="rewrite its BENCHMARKS.md section")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        result = run(args.devices, args.clients, args.seconds, args.recording_s, Path(tmp))
    print("fleet-result " + json.dumps(result, sort_keys=True))
    command = ".venv/bin/python -m benchmarks.fleet " + " ".join(
        f"--{k.replace('_', '-')} {v}"
        for k, v in (
            ("devices", args.devices),
            ("clients", args.clients),
            ("seconds", args.seconds),
            ("recording_s", args.recording_s),
        )
    )
    text = section(result, command + " --write")
    print(text)
    if args.write:
        from benchmarks.markdown import write_section

        write_section("## Fleet on the local cloud", text)
    bad = result["lost"] or result["stored_twice"] or result["5xx"] or result["client_lost"]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
