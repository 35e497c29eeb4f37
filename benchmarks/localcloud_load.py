"""The local cloud under load: a 25-event POST as the events table grows, and concurrent clients.

    .venv/bin/python -m benchmarks.localcloud_load [--events 100000] [--clients 20]
        [--requests 50] [--write]

Runs the local cloud's server (as `gesture-stack up` does, state on disk, request log on) in a
process of its own, provisions devices through its AWS endpoint (the `devices add` code path),
then one client POSTs 25-event batches over one keep-alive connection until `--events` are
stored, and `--clients` threads POST at once, each on its own connection. Reported: p50/p99 of
a POST for the first thousand stored events and at the end (the ratio is the target: within
2x), the server's resident memory (target < 1 GB), and whether any concurrent request failed
or its connection was reset (target: none).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BATCH = 25
DAY_MS = 86_400_000
SERVER = """
import sys, time
from pathlib import Path
from localcloud.server import LocalCloud
with LocalCloud(port=0, state=Path(sys.argv[1]), pipeline=False, log=lambda line: None) as c:
    print(c.url, flush=True)
    sys.stdin.read()
"""


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def rss_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak) in MB from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def provision(url: str, count: int) -> list[str]:
    import boto3

    from functions.adapters.device_keys import DeviceKeys
    from localcloud.stack import LOCAL_STAGE, REGION, SERVICE, table_names, usage_plan_name
    from localcloud.stepfunctions import ENDPOINT_CREDENTIALS

    options = {"endpoint_url": url, "region_name": REGION, **ENDPOINT_CREDENTIALS}
    apigw, ddb = boto3.client("apigateway", **options), boto3.client("dynamodb", **options)
    plan = DeviceKeys.find_usage_plan(apigw, usage_plan_name(LOCAL_STAGE))
    table = table_names(LOCAL_STAGE)["DevicesTable"]
    keys = DeviceKeys(apigw, ddb, table, plan, f"{SERVICE}-{LOCAL_STAGE}")
    return [keys.add(f"bench-{i:02d}").value for i in range(count)]


class Client:
    """One device: its key, its sequence numbers, one keep-alive connection."""

    def __init__(self, url: str, key: str, t0_ms: int):
        host, _, port = url.removeprefix("http://").partition(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.key, self.seq, self.t0_ms = key, 0, t0_ms

    def post_batch(self) -> tuple[int, float]:
        events = []
        for _ in range(BATCH):
            self.seq += 1
            events.append(
                {
                    "seq": self.seq,
                    "gesture": ("circle", "x", "y")[self.seq % 3],
                    "t_ms": self.t0_ms + self.seq * 10,
                    "score": 0.9,
                    "model_version": "bench",
                }
            )
        body = json.dumps({"events": events})
        headers = {"Content-Type": "application/json", "x-api-key": self.key}
        started = time.perf_counter()
        self.conn.request("POST", "/events", body=body, headers=headers)
        response = self.conn.getresponse()
        response.read()
        return response.status, (time.perf_counter() - started) * 1000


def fill(client: Client, events: int) -> tuple[list[float], list[float], float]:
    """POST until `events` are stored; (first thousand's ms, all ms, seconds)."""
    timings, started = [], time.perf_counter()
    for _ in range(events // BATCH):
        status, ms = client.post_batch()
        if status != 200:
            raise RuntimeError(f"POST /events answered {status}")
        timings.append(ms)
    return timings[: 1000 // BATCH], timings, time.perf_counter() - started


def concurrent(url: str, keys: list[str], requests: int, t0_ms: int) -> dict:
    results: list[tuple[int, float]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def one(key: str) -> None:
        client = Client(url, key, t0_ms)
        for _ in range(requests):
            try:
                outcome = client.post_batch()
            except OSError as exc:  # a reset or refused connection
                with lock:
                    errors.append(type(exc).__name__)
                client = Client(url, key, t0_ms + DAY_MS)
                continue
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=one, args=(key,)) for key in keys]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    ms = [m for _, m in results]
    return {
        "requests": len(keys) * requests,
        "ok": sum(1 for status, _ in results if status == 200),
        "errors": len(errors) + sum(1 for status, _ in results if status != 200),
        "p50_ms": statistics.median(ms) if ms else None,
        "p99_ms": percentile(ms, 0.99) if ms else None,
        "per_s": len(results) / seconds,
    }


def run(events: int, clients: int, requests: int) -> dict:
    repo = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="localcloud-bench-") as state:
        server = subprocess.Popen(
            [sys.executable, "-c", SERVER, state],
            cwd=repo,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            url = server.stdout.readline().strip()
            keys = provision(url, max(clients, 1))
            # device time starts 20 days ago (events may be up to 30 days old)
            t0_ms = int(time.time() * 1000) - 20 * DAY_MS
            first, _, seconds = fill(Client(url, keys[0], t0_ms), events)
            later = Client(url, keys[0], t0_ms + 2 * DAY_MS)
            end = [ms for status, ms in (later.post_batch() for _ in range(200)) if status == 200]
            if len(end) != 200:
                raise RuntimeError("a POST at the end was refused")
            load = concurrent(url, keys[:clients], requests, t0_ms + 4 * DAY_MS)
            now_mb, peak_mb = rss_mb(server.pid)
        finally:
            server.stdin.close()
            server.wait(timeout=300)
        snapshot_mb = os.path.getsize(Path(state) / "moto-state.pickle") / 1e6
    return {
        "events": events,
        "fill_s": seconds,
        "first_p50_ms": statistics.median(first),
        "first_p99_ms": percentile(first, 0.99),
        "end_p50_ms": statistics.median(end),
        "end_p99_ms": percentile(end, 0.99),
        "ratio_p99": percentile(end, 0.99) / percentile(first, 0.99),
        "rss_mb": now_mb,
        "peak_rss_mb": peak_mb,
        "snapshot_mb": snapshot_mb,
        "concurrent": load,
        "clients": clients,
    }


def section(result: dict, command: str) -> str:
    load, n = result["concurrent"], result["clients"]
    rows = [
        (
            "25-event POST, first 1,000 events stored: p50 / p99",
            f"{result['first_p50_ms']:.1f} / {result['first_p99_ms']:.1f} ms",
            "",
        ),
        (
            f"25-event POST, {result['events']:,} events stored: p50 / p99",
            f"{result['end_p50_ms']:.1f} / {result['end_p99_ms']:.1f} ms",
            "",
        ),
        ("p99 ratio (end / first thousand)", f"{result['ratio_p99']:.2f}", "<= 2"),
        (
            "server resident memory at the end (peak)",
            f"{result['rss_mb']:.0f} MB ({result['peak_rss_mb']:.0f} MB)",
            "< 1,024 MB",
        ),
        (f"{n} clients at once, {load['requests']} POSTs: failed or reset", load["errors"], "0"),
        (
            f"{n} clients at once: p50 / p99, throughput",
            f"{load['p50_ms']:.0f} / {load['p99_ms']:.0f} ms, {load['per_s']:.0f} POST/s",
            "",
        ),
        (
            f"filling {result['events']:,} events (sequential POSTs)",
            f"{result['fill_s']:.0f} s",
            "",
        ),
        ("state snapshot on disk", f"{result['snapshot_mb']:.0f} MB", ""),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return f"""## Local cloud

`{command}` (2 shared cores; the server in its own process with its state on disk, as
`gesture-stack up` runs it).

| measure | value | target |
| --- | --- | --- |
{table}

moto 5.2.5 alone copies the whole events table for every item of a transaction (1.8 s per POST
and 5.9 GB at 2,500 events); `localcloud/moto_dynamodb.py` keeps an undo log of the touched
items instead (see localcloud/README.md).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=50, help="POSTs per concurrent client")
    parser.add_argument("--write", action="store_true", help="rewrite BENCHMARKS.md's section")
    args = parser.parse_args(argv)
    result = run(args.events, args.clients, args.requests)
    print(json.dumps(result, indent=2))
    ok = (
        result["ratio_p99"] <= 2 and result["rss_mb"] < 1024 and result["concurrent"]["errors"] == 0
    )
    print(
        f"localcloud-load-result events={args.events} ratio_p99={result['ratio_p99']:.2f} "
        f"rss_mb={result['rss_mb']:.0f} errors={result['concurrent']['errors']} ok={ok}"
    )
    if args.write:
        from benchmarks.markdown import write_section

        command = ".venv/bin/python -m benchmarks.localcloud_load --events "
        command += f"{args.events} --clients {args.clients} --requests {args.requests} --write"
        write_section("## Local cloud", section(result, command))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
