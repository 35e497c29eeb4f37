"""`gesture-stack pipeline`: run the Step Functions machines locally against moto."""

from __future__ import annotations

import argparse
import json

EXAMPLE = '{"run_data_collect": true, "run_data_process": true}'


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "pipeline",
        help="run the pipeline's state machines locally (moto), jobs as local processes",
        description="Execute statemachines/*.asl.json in moto's Step Functions interpreter; "
        "CodeBuild tasks run their buildspec commands locally. Prints each state as it "
        "runs and ends with the execution's status and output.",
    )
    parser.add_argument(
        "--input", default=EXAMPLE, help=f"execution input JSON (default {EXAMPLE})"
    )
    parser.add_argument(
        "--machine", default="main", choices=("main", "collect", "retrain"), help="what to start"
    )
    parser.add_argument("--name", help="execution name = run id (default: run-<time>-<hex>)")
    parser.add_argument(
        "--retry-delay-scale",
        type=float,
        default=0.0,
        help="multiply the machines' Retry waits (default 0: retry at once)",
    )
    parser.set_defaults(func=run)


def parse_input(text: str) -> dict:
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"pipeline: --input is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise SystemExit(f"pipeline: --input must be a JSON object, e.g. {EXAMPLE}")
    return payload


def run(args: argparse.Namespace) -> int:
    from pipeline.runner import LocalPipeline

    payload = parse_input(args.input)
    with LocalPipeline(retry_delay_scale=args.retry_delay_scale) as pipeline:
        result = pipeline.run(payload, machine=args.machine, name=args.name)
    print(result.status)
    if result.status == "SUCCEEDED":
        print(json.dumps(result.output, indent=2, sort_keys=True))
        return 0
    print(json.dumps({"error": result.error, "cause": result.cause}, indent=2))
    return 1
