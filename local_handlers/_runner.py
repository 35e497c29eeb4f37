"""Shared by local_handlers/<function>.py: run a real handler on sample API Gateway events.

By default against an in-process moto AWS with the tables and bucket of infra/storage.yml and
the sample devices of events/devices.json (plus a tiny demo model, whose classes are the sample
events' gestures, the sample batch already stored for `query` and `counts`, the sample
heartbeat for `devices`); with --endpoint URL against the local cloud of `gesture-stack up`
(the sample devices are registered there); with --aws (or AWS_ENDPOINT_URL set) against the
account or endpoint your AWS settings point at (nothing is created there).
Handler logs and metrics go to stderr; each response is printed to stdout as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

from localcloud.aws import local_aws
from localcloud.lambda_runtime import LambdaContext, apply_environment
from localcloud.stack import REGION, load_routes
from localcloud.where import add_endpoint

REPO_ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = REPO_ROOT / "events"
DEMO_MODEL_VERSION = "20251124120000-0badc0de"


def seed_devices() -> None:
    """Register the API key ids the sample events use."""
    from functions import wiring
    from functions.domain.devices import Device

    for entry in json.loads((EVENTS_DIR / "devices.json").read_text()):
        device = Device(device_id=entry["device_id"], role=entry["role"])
        wiring.devices().register(entry["api_key_id"], device)


def sample_gestures() -> list[str]:
    """The gestures the sample batch (events/ingest/valid.json) names."""
    event = json.loads((EVENTS_DIR / "ingest" / "valid.json").read_text())
    return sorted({e["gesture"] for e in json.loads(event["body"])["events"]})


def publish_demo_model() -> str:
    """Make a tiny placeholder model current (it always answers idle) so GET /model has
    something to serve and the fleet's vocabulary holds the sample events' gestures;
    published the one way a model is (ModelStore.publish), with a valid manifest."""
    from functions import wiring
    from training.manifest import constant_model

    with tempfile.TemporaryDirectory() as tmp:
        classes = ["idle", *sample_gestures()]
        manifest = constant_model(Path(tmp), classes, DEMO_MODEL_VERSION)
        return wiring.models().publish(Path(tmp), manifest.model_dump(by_alias=True))


def seed_events() -> None:
    """Store the sample batch (events/ingest/valid.json) so queries have something to find."""
    run_sample("ingest")


def seed_telemetry() -> None:
    """Store the sample heartbeat (events/telemetry/valid.json) so GET /devices shows health."""
    run_sample("telemetry")


def run_sample(function: str) -> None:
    event = json.loads((EVENTS_DIR / function / "valid.json").read_text())
    context = LambdaContext(function_name=f"gesture-stack-local-{function}")
    with contextlib.redirect_stdout(sys.stderr):
        load_handler(function)(event, context)


def load_handler(function: str):
    for route in load_routes():
        if route.function == function:
            return route.load()
    raise SystemExit(f"no function {function!r} in infra/functions.yml")


def run(function: str, argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=f"local_handlers/{function}.py",
        description=f"Run the {function} handler on API Gateway events, print the responses.",
    )
    parser.add_argument(
        "events",
        nargs="*",
        type=Path,
        help=f"event JSON files, run in order (default: events/{function}/valid.json)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--aws", action="store_true", help="use real AWS instead of moto")
    add_endpoint(where, without="an in-process moto (or real AWS: --aws)")
    parser.add_argument(
        "--pdb",
        action="store_true",
        help="stop in pdb before each call: `event` is the raw API Gateway event; "
        f"`b functions.{function}.handler` then `c` stops in the handler",
    )
    args = parser.parse_args(argv)
    paths = args.events or [EVENTS_DIR / function / "valid.json"]
    for path in paths:
        if not path.is_file():
            parser.error(f"{path}: no such event file")
    if args.endpoint:
        # the local cloud's AWS endpoint accepts any credentials: never send real ones there
        os.environ.update(
            AWS_ENDPOINT_URL=args.endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_SESSION_TOKEN="testing",
            AWS_DEFAULT_REGION=REGION,
        )
    aws = args.aws or bool(os.environ.get("AWS_ENDPOINT_URL"))
    apply_environment(function)
    handler = load_handler(function)
    with local_aws(aws):
        if args.endpoint:
            seed_devices()  # the sample events' key ids, so their device is known there
        if not aws:
            seed_devices()
            publish_demo_model()  # also: the sample events' gestures are known
            if function in ("query", "counts"):
                seed_events()
            if function == "devices":
                seed_telemetry()
        for path in paths:
            event = json.loads(path.read_text())
            context = LambdaContext(function_name=f"gesture-stack-local-{function}")
            if args.pdb:
                response = call_under_pdb(handler, event, context)
            else:
                with contextlib.redirect_stdout(sys.stderr):
                    response = handler(event, context)
            print(json.dumps(response, indent=2), flush=True)
    return 0


def call_under_pdb(handler, event: dict, context: LambdaContext) -> dict:
    """Call the handler under pdb, stopped first where `event` and `functions` are in scope."""
    import pdb

    import functions

    scope = {"functions": functions, "handler": handler, "event": event, "context": context}
    pdb.Pdb().run("response = handler(event, context)", scope)
    return scope["response"]
