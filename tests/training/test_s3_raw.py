import json
import uuid

import boto3
import pytest
from gesture import units
from moto import mock_aws

from functions.storage_layout import raw_sample_key
from training.params import load_params
from training.pipeline import load_streams
from training.s3_raw import download_raw_layer
from training.synthetic import generate_recording


@pytest.fixture
def s3(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    with mock_aws():
        yield boto3.client("s3", region_name="eu-west-1")


def window(rows, label, t_ms, device="dev-1"):
    return {"device_id": device, "t_ms": t_ms, "rate_hz": 100, "units": "raw",
            "signals": list(units.SIGNALS), "values": rows, "label": label}  # fmt: skip


def test_raw_layer_objects_are_downloaded_and_trainable(s3, tmp_path):
    bucket = f"gs-raw-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    samples, events = generate_recording(12, 20, gestures=("y",), handling=False)
    e = events[0]
    rows = [
        list(units.si_to_raw(*r[:6])) for r in samples[e.start_ms // 10 - 60 : e.end_ms // 10 + 60]
    ]
    for label, t_ms in (("y", 1_700_000_000_000), ("idle", 1_700_000_005_000)):
        obj = window(rows, label, t_ms, "dev-7")
        s3.put_object(
            Bucket=bucket, Key=raw_sample_key("dev-7", t_ms, "ab" * 32), Body=json.dumps(obj)
        )
    s3.put_object(Bucket=bucket, Key="raw/samples/README.txt", Body=b"not a window")
    assert download_raw_layer(s3, bucket, tmp_path) == 2
    streams, source = load_streams(tmp_path, load_params())
    assert source["raw_windows"] == {"used": 2}
    assert [ev.gesture for s in streams for ev in s.events] == ["y"]


def test_train_cli_reads_the_bucket_raw_layer(s3, tmp_path, capsys):
    from gesture_stack.cli import main

    bucket = f"gs-raw-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    t_ms = 1_700_000_000_000
    for seed in (1, 2, 3):
        samples, events = generate_recording(seed, 60, handling=False)
        counts = [list(units.si_to_raw(*r[:6])) for r in samples]
        pieces = [(e.gesture, e.start_ms // 10 - 80, e.end_ms // 10 + 80) for e in events]
        pieces += [("idle", e.end_ms // 10 + 120, e.end_ms // 10 + 220) for e in events[:-1]]
        for label, a, b in pieces:
            t_ms += 10_000
            obj = window(counts[a:b], label, t_ms)
            key = raw_sample_key("dev-1", t_ms, uuid.uuid4().hex * 2)
            s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(obj))
    out = tmp_path / "model"
    assert (
        main(["train", "--data", f"s3://{bucket}/dev-1", "--out", str(out), "--grid", "tiny"]) == 0
    )
    assert "downloaded" in capsys.readouterr().err
    assert (out / "model.mpy").exists() and (tmp_path / "model-raw" / "raw" / "samples").is_dir()
