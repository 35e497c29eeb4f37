"""API benchmarks: cold import, warm 25-event batch, local handler vs osls invoke local, writes.

    .venv/bin/python -m benchmarks.api_handlers [--write] [--quick]

1. Cold start of the ingest handler (import + the AWS clients its first request needs) against
   benchmarks/api_bare_handler.py (same job, bare boto3), fresh interpreters, interleaved,
   median of N; plus `python -X importtime` cumulative time of each module.
2. Warm in-process handling of a 25-event batch against moto (new events every call).
3. `python local_handlers/ingest.py --aws` against `npx osls invoke local -f ingest`, same event
   (events/ingest/valid.json), both against one moto server; median of N, interleaved.
4. DynamoDB write requests per 25-event batch (new, and a retry).
`--write` replaces the `## API` section of BENCHMARKS.md.
"""

import argparse
import json
import logging
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.markdown import write_section

REPO = Path(__file__).resolve().parents[1]
SECTION = "## API"
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
}
# The handlers' deployed environment (infra/functions.yml) that matters for a cold start.
HANDLER_ENV = {"PYDANTIC_DISABLE_PLUGINS": "__all__"}
COLD_START = """
import time
t = time.perf_counter()
{body}
print(time.perf_counter() - t)
"""
# the clients a first POST /events needs: DynamoDB (devices, events) and S3 (the vocabulary)
OURS = (
    "import functions.ingest\nfrom functions import wiring\n"
    "wiring.devices(); wiring.events(); wiring.s3()"
)
BARE = "import benchmarks.api_bare_handler"
WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def _env(**extra) -> dict:
    """Subprocess environment: dummy credentials, and bytecode caching on (as on a developer's
    machine and in the Powertools layer), so no run pays for compiling sources."""
    env = {**os.environ, **DUMMY_AWS, "PYTHONPATH": str(REPO), **extra}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _seconds(code: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", COLD_START.format(body=code)],
        cwd=REPO,
        env=_env(**HANDLER_ENV),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _importtime_ms(module: str) -> float:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=REPO,
        env=_env(**HANDLER_ENV),
        capture_output=True,
        text=True,
        check=True,
    )
    for line in out.stderr.splitlines():
        parts = [p.strip() for p in line.split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000
    raise RuntimeError(f"{module} not in -X importtime output")


def cold_import(runs: int) -> dict:
    ours, bare, ours_it, bare_it = [], [], [], []
    _seconds(OURS), _seconds(BARE)  # warm-up: writes the bytecode caches
    for _ in range(runs):
        ours.append(_seconds(OURS))
        bare.append(_seconds(BARE))
        ours_it.append(_importtime_ms("functions.ingest"))
        bare_it.append(_importtime_ms("benchmarks.api_bare_handler"))
    ours_ms, bare_ms = statistics.median(ours) * 1000, statistics.median(bare) * 1000
    return {
        "ours_ms": ours_ms,
        "bare_ms": bare_ms,
        "ratio": ours_ms / bare_ms,
        "ours_min_ms": min(ours) * 1000,
        "bare_min_ms": min(bare) * 1000,
        "min_ratio": min(ours) / min(bare),
        "ours_importtime_ms": statistics.median(ours_it),
        "bare_importtime_ms": statistics.median(bare_it),
        "importtime_ratio": statistics.median(ours_it) / statistics.median(bare_it),
    }


def warm_batch(batches: int) -> dict:
    os.environ.update(DUMMY_AWS)
    from functions import ingest, wiring
    from functions.domain.devices import Device
    from localcloud.aws import local_aws
    from localcloud.lambda_runtime import LambdaContext, rest_event

    now = int(time.time() * 1000)
    with local_aws():
        wiring.devices().register("kbench", Device("bench-1"))
        wiring.models().add_to_vocabulary({"version": "v1", "classes": ["idle", "x", "y"]})
        calls: list[str] = []
        wiring.dynamodb().meta.events.register(
            "before-call.dynamodb", lambda model, **_: calls.append(model.name)
        )
        s3_answers: list[int] = []
        wiring.s3().meta.events.register(
            "after-call.s3", lambda http_response, **_: s3_answers.append(http_response.status_code)
        )

        def event(first_seq: int, gestures: tuple[str, ...] = ("x", "y")) -> dict:
            events = [
                {
                    "seq": s,
                    "gesture": gestures[s % len(gestures)],
                    "t_ms": now - 60_000 + s,
                    "score": 0.9,
                    "model_version": "v1",
                }
                for s in range(first_seq, first_seq + 25)
            ]
            body = json.dumps({"events": events})
            return rest_event("POST", "/events", body=body, api_key_id="kbench")

        for i in range(20):  # warm-up: clients, device cache, pydantic
            ingest.handler(event(1_000_000 + i * 25), LambdaContext())
        times, unknown_times = [], []
        s3_answers.clear()
        for i in range(batches):
            _empty_events_table(wiring)
            payload = event(i * 25)
            calls.clear()
            start = time.perf_counter()
            response = ingest.handler(payload, LambdaContext())
            times.append((time.perf_counter() - start) * 1000)
            assert response["statusCode"] == 200, response
        new_writes = [c for c in calls if c in WRITES]
        known_s3 = len(s3_answers) / batches
        # a gesture no published model knows: the vocabulary is revalidated (If-None-Match)
        s3_answers.clear()
        for i in range(batches):
            payload = event(2_000_000 + i * 25, ("x", "shake"))
            start = time.perf_counter()
            response = ingest.handler(payload, LambdaContext())
            unknown_times.append((time.perf_counter() - start) * 1000)
            assert response["statusCode"] == 400, response
        unknown_s3 = sorted(set(s3_answers))
        unknown_s3_per_request = len(s3_answers) / batches
        calls.clear()
        ingest.handler(event((batches - 1) * 25), LambdaContext())
        retry_writes = [c for c in calls if c in WRITES]
    times.sort()
    return {
        "median_ms": statistics.median(times),
        "p95_ms": times[int(len(times) * 0.95) - 1],
        "unknown_median_ms": statistics.median(unknown_times),
        "s3_per_known_batch": known_s3,
        "s3_per_unknown_request": unknown_s3_per_request,
        "s3_unknown_answers": unknown_s3,
        "new_batch_requests": new_writes,
        "retry_requests": retry_writes,
    }


def _empty_events_table(wiring) -> None:
    """Untimed: moto copies the whole table for every transaction's rollback, so a growing
    table would measure moto; DynamoDB does not do that."""
    from functions.settings import get_settings

    table = get_settings().events_table
    client = wiring.dynamodb()
    for item in client.scan(TableName=table, ProjectionExpression="device_id, event_key")["Items"]:
        client.delete_item(TableName=table, Key=item)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def local_vs_osls(runs: int) -> dict:
    """Both run the ingest handler on events/ingest/valid.json against one moto server."""
    import boto3
    from moto.server import ThreadedMotoServer

    from localcloud.stack import table_definitions

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per moto request
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    names = {
        "EVENTS_TABLE": "gesture-stack-ci-events",
        "TELEMETRY_TABLE": "gesture-stack-ci-telemetry",
        "DEVICES_TABLE": "gesture-stack-ci-devices",
        "DATA_BUCKET": "gesture-stack-ci-data-change-me",
    }
    try:
        client = boto3.client("dynamodb", endpoint_url=endpoint, **_boto_kwargs())
        for spec in table_definitions("ci").values():
            client.create_table(**spec)
        client.put_item(
            TableName=names["DEVICES_TABLE"],
            Item={"api_key_id": {"S": "k1esp32a01"}, "device_id": {"S": "esp32-a01"}},
        )
        _publish_vocabulary_of(
            boto3.client("s3", endpoint_url=endpoint, **_boto_kwargs()),
            names["DATA_BUCKET"],
            REPO / "events/ingest/valid.json",
        )
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("python3", "python3.12"):  # osls runs `python3`: use this venv's
                shim = Path(tmp) / name
                shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
                shim.chmod(0o755)
            path = f"{tmp}{os.pathsep}{os.environ['PATH']}"
            env = _env(AWS_ENDPOINT_URL=endpoint, PATH=path, SLS_TELEMETRY_DISABLED="1", **names)
            local = [
                sys.executable,
                "local_handlers/ingest.py",
                "events/ingest/valid.json",
                "--aws",
            ]
            osls = [
                "npx",
                "osls",
                "invoke",
                "local",
                "-f",
                "ingest",
                "--stage",
                "ci",
                "--region",
                "eu-west-1",
                "-p",
                "events/ingest/valid.json",
                "--env",
                f"AWS_ENDPOINT_URL={endpoint}",
            ]
            default = local[:-1]
            local_times, osls_times, default_times = [], [], []
            _wall(local, env, expect='"statusCode": 200')  # warm-up: bytecode caches
            for _ in range(runs):
                local_times.append(_wall(local, env, expect='"statusCode": 200'))
                osls_times.append(_wall(osls, env, expect='"statusCode": 200'))
                default_times.append(_wall(default, _env(), expect='"statusCode": 200'))
    finally:
        server.stop()
    local_s, osls_s = statistics.median(local_times), statistics.median(osls_times)
    return {
        "local_s": local_s,
        "osls_s": osls_s,
        "ratio": osls_s / local_s,
        "default_s": statistics.median(default_times),
    }


def _publish_vocabulary_of(s3, bucket: str, sample: Path) -> None:
    """The bucket, with a vocabulary that knows the sample's gestures (POST /events accepts
    only those of published models)."""
    from functions.adapters.data_bucket import ModelStore

    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    events = json.loads(json.loads(sample.read_text())["body"])["events"]
    classes = sorted({e["gesture"] for e in events})
    ModelStore(s3, bucket).add_to_vocabulary({"version": "bench", "classes": classes})


def _boto_kwargs() -> dict:
    return {
        "region_name": "eu-west-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }


def _wall(cmd: list[str], env: dict, expect: str) -> float:
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    if out.returncode != 0 or expect not in out.stdout.replace('"statusCode":200', expect):
        raise RuntimeError(f"{cmd[:4]} failed:\n{out.stdout[-1500:]}\n{out.stderr[-1500:]}")
    return elapsed


def render(cold: dict, warm: dict, invoke: dict, runs: dict, command: str) -> str:
    new, retry = warm["new_batch_requests"], warm["retry_requests"]
    bare = "(bare boto3 handler)"
    rows = [
        (
            f"cold start of the ingest handler: import + its AWS clients, ms "
            f"(median of {runs['cold']})",
            f"{cold['ours_ms']:.0f}",
            f"{cold['bare_ms']:.0f} {bare}",
            f"{cold['ratio']:.2f}x",
            "<= 1.5x",
        ),
        (
            "the same, fastest of the runs (least disturbed by other load), ms",
            f"{cold['ours_min_ms']:.0f}",
            f"{cold['bare_min_ms']:.0f} {bare}",
            f"{cold['min_ratio']:.2f}x",
            "<= 1.5x",
        ),
        (
            "`python -X importtime`, cumulative import of the handler module, ms (median)",
            f"{cold['ours_importtime_ms']:.0f}",
            f"{cold['bare_importtime_ms']:.0f} {bare}",
            f"{cold['importtime_ratio']:.2f}x",
            "<= 1.5x",
        ),
        (
            f"warm in-process 25-event batch against moto, ms (median / p95 of {runs['warm']})",
            f"{warm['median_ms']:.1f} / {warm['p95_ms']:.1f}",
            "",
            "",
            "",
        ),
        (
            "S3 requests per 25-event batch of gestures the fleet's models know (warm)",
            f"{warm['s3_per_known_batch']:g}",
            "",
            "",
            "0",
        ),
        (
            "a batch naming a gesture no model knows (a 400): S3 requests, ms (median)",
            f"{warm['s3_per_unknown_request']:g} GetObject answered "
            f"{'/'.join(map(str, warm['s3_unknown_answers']))}, {warm['unknown_median_ms']:.1f}",
            "",
            "",
            "1 (a 304)",
        ),
        (
            f"one run on events/ingest/valid.json, s (median of {runs['invoke']}): "
            "`python local_handlers/ingest.py` vs `npx osls invoke local -f ingest`",
            f"{invoke['local_s']:.2f} (in-process moto: {invoke['default_s']:.2f})",
            f"{invoke['osls_s']:.2f}",
            f"{invoke['ratio']:.1f}x faster",
            ">= 5x",
        ),
        (
            "DynamoDB write requests per new 25-event batch",
            f"{len(new)} ({', '.join(new)})",
            "25 (a PutItem each)",
            "",
            "1 or 2",
        ),
        (
            "DynamoDB write requests for a retried 25-event batch",
            f"{len(retry)} ({', '.join(retry)})",
            "",
            "",
            "",
        ),
    ]
    table = "\n".join("| " + " | ".join(row) + " |" for row in rows)
    return f"""{SECTION}

Command: `{command}`
(one run on the development machine; each ratio is measured side by side in that run,
interleaved; medians. Python {sys.version.split()[0]}.)

| measure | ours | baseline | ratio | target |
| --- | ---: | ---: | ---: | --- |
{table}

Cold start counts what a first request pays before any I/O: importing the handler (Powertools
Logger and Metrics, pydantic and the route's models, botocore) and creating the DynamoDB client.
Nearly all of the difference is pydantic (importing it and building the first model class);
both run with the functions' deployed environment (`PYDANTIC_DISABLE_PLUGINS=__all__`, which
spares pydantic a scan of every installed package for plugins).
In Lambda with active tracing the Powertools Tracer also imports the X-Ray SDK; that is not
measured here (functions/api.py creates the Tracer only where tracing is on). The baseline,
benchmarks/api_bare_handler.py, does the same job with boto3 and json only.
A warm Lambda keeps the fleet's vocabulary: known gestures cost no S3 request; an unknown one
revalidates it with If-None-Match on the ETag it holds (a 304 without a body unless a release
was published since), so a just-published gesture is accepted at once.
`local_handlers/ingest.py --aws` and `osls invoke local` talk to the same moto server; the
figure in brackets is the default `local_handlers/ingest.py` (in-process moto, with the tables,
sample devices and a model created on every run).
"""


def _report(name: str, values: dict) -> None:
    """One grep-able result line."""
    parts = [
        f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={len(v) if isinstance(v, list) else v}"
        for k, v in values.items()
    ]
    print(name, *parts, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    args = parser.parse_args(argv)
    runs = (
        {"cold": 3, "warm": 30, "invoke": 2}
        if args.quick
        else {"cold": 21, "warm": 300, "invoke": 7}
    )
    cold = cold_import(runs["cold"])
    _report("api-cold-start", cold)
    warm = warm_batch(runs["warm"])
    _report("api-warm-batch25", warm)
    invoke = local_vs_osls(runs["invoke"])
    _report("api-local-vs-osls", invoke)
    if args.write:
        flags = " --write" + (" --quick" if args.quick else "")
        write_section(
            SECTION,
            render(cold, warm, invoke, runs, f".venv/bin/python -m benchmarks.api_handlers{flags}"),
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
