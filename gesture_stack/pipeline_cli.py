"""`gesture-stack pipeline`: run the Step Functions machines locally (moto, or the local cloud)."""

from __future__ import annotations

import argparse
import json

from localcloud.where import add_endpoint

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
    add_endpoint(
        parser,
        without="an empty in-process moto; with it, collect reads what devices posted there",
    )
    parser.add_argument(
        "--retry-delay-scale",
        type=float,
        default=0.0,
        help="multiply the machines' Retry waits (default 0: retry at once)",
    )
    parser.set_defaults(func=run)

    source = subparsers.add_parser(
        "pipeline-source",
        help="upload the committed repository as the CodeBuild jobs' source (real AWS)",
        description="Zip HEAD with git archive and upload it to s3://BUCKET/pipeline/source.zip, "
        "where the collect and retrain projects read their source. Uses your AWS credentials.",
    )
    source.add_argument("--bucket", required=True, help="the stage's data bucket")
    source.add_argument("--ref", default="HEAD", help="git ref to zip (default HEAD)")
    source.set_defaults(func=run_source)


def parse_input(text: str) -> dict:
    from pipeline.settings import SettingsError, parse_json_object

    try:
        return parse_json_object(text, "--input")
    except SettingsError as exc:
        raise SystemExit(f"pipeline: {exc} (e.g. {EXAMPLE})") from None


def run(args: argparse.Namespace) -> int:
    from localcloud.stepfunctions import LocalPipeline

    payload = parse_input(args.input)
    with LocalPipeline(
        retry_delay_scale=args.retry_delay_scale, endpoint=args.endpoint
    ) as pipeline:
        result = pipeline.run(payload, machine=args.machine, name=args.name)
    print(result.status)
    if result.status == "SUCCEEDED":
        print(json.dumps(result.output, indent=2, sort_keys=True))
        collected = _collect_result(result.output)
        if collected is not None:
            print(f"collected events={collected.get('events')} windows={collected.get('windows')}")
        return 0
    print(json.dumps({"error": result.error, "cause": result.cause}, indent=2))
    return 1


def _collect_result(output) -> dict | None:
    """The collect job's result in the machine's output (main or the collect machine)."""
    if not isinstance(output, dict):
        return None
    result = output.get("collect", {}).get("output", {}).get("result") or output.get("result")
    return result if isinstance(result, dict) and "events" in result else None


def run_source(args: argparse.Namespace) -> int:
    import tempfile
    from pathlib import Path

    import boto3

    from pipeline.source import SOURCE_KEY, build_source_zip, upload_source

    with tempfile.TemporaryDirectory() as tmp:
        try:
            zip_path = build_source_zip(Path(tmp) / "source.zip", ref=args.ref)
        except ValueError as exc:
            print(f"pipeline-source: {exc}")
            return 2
        version = upload_source(boto3.client("s3"), args.bucket, zip_path)
    print(f"uploaded s3://{args.bucket}/{SOURCE_KEY} version={version or '-'}")
    return 0
