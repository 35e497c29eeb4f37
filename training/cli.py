"""`gesture-stack train` and `gesture-stack detect` (registered by gesture_stack.cli)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gesture.spec import MODEL_MPY

DEFAULT_OUT = Path("build") / "model"


def register(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train a gesture model and write the model folder",
        description="Train on the seed-imu folder or a folder of recordings with labels.",
    )
    train.add_argument(
        "--data",
        required=True,
        help="seed-imu folder, folder of recordings (+ labels or Label Studio export, + raw/ "
        "windows), or s3://BUCKET[/DEVICE_ID] to train on the bucket's raw layer",
    )
    train.add_argument("--out", type=Path, default=DEFAULT_OUT, help="model folder to write")
    train.add_argument("--grid", default="default", help="grid name from training/params.yml")
    train.add_argument(
        "--params", type=Path, help="params file (YAML; default: training/params.yml)"
    )
    train.add_argument(
        "--layers", type=Path, help="data layers folder (default: OUT-layers beside --out)"
    )
    train.set_defaults(func=run_train)

    detect = subparsers.add_parser(
        "detect",
        help="run the device pipeline over a recording; one JSON line per event",
        description="Read a 100 Hz recording CSV and print detected gesture events as JSON lines.",
    )
    detect.add_argument("recording", type=Path, help="CSV acc_x,...,gyro_z,ms at 100 Hz")
    detect.add_argument("--model", type=Path, default=DEFAULT_OUT, help="model folder")
    detect.set_defaults(func=run_detect)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _fetch_s3(url: str, out: Path) -> Path:
    """Copy the raw layer of s3://bucket[/device] beside the model folder; returns the folder."""
    import boto3

    from training.s3_raw import download_raw_layer

    bucket, _, device = url.removeprefix("s3://").partition("/")
    folder = out.with_name(out.name + "-raw")
    count = download_raw_layer(boto3.client("s3"), bucket, folder, device.strip("/") or None)
    _progress(f"downloaded {count} raw windows from s3://{bucket}")
    return folder


def run_train(args: argparse.Namespace) -> int:
    from training.params import load_params
    from training.pipeline import train

    try:
        params = load_params(args.params)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    data = _fetch_s3(args.data, args.out) if args.data.startswith("s3://") else Path(args.data)
    if not data.exists():
        print(f"error: --data {data} does not exist", file=sys.stderr)
        return 2
    try:
        result = train(data, args.out, args.grid, params, args.layers, progress=_progress)
    except (ValueError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    test = result.manifest.metrics["test"]
    print(
        f"train-result model={result.model_dir} version={result.manifest.version} "
        f"f1={test['f1']} false_per_idle_min={test['false_per_idle_minute']} "
        f"mpy_bytes={result.manifest.files[MODEL_MPY].bytes}"
    )
    return 0


def run_detect(args: argparse.Namespace) -> int:
    from training.detect import detect_samples
    from training.recordings import RecordingError, read_recording

    try:
        samples = read_recording(args.recording)
        events = detect_samples(args.model, samples)
    except (RecordingError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for event in events:
        print(json.dumps(event))
    return 0
