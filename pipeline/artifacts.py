"""Job outputs: written to the local work folder and uploaded at once (build hosts are
ephemeral)."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from functions.adapters.data_bucket import get_if_present


def s3_client():
    """S3 client for jobs; AWS_ENDPOINT_URL (set by the local runner) points it at moto."""
    return boto3.client("s3")


class ArtifactSink:
    """Writes each artifact under `root` and uploads it to `bucket` under the same key."""

    def __init__(self, bucket: str, root: Path, s3=None):
        self.bucket = bucket
        self.root = Path(root)
        self.s3 = s3 or s3_client()
        self.uploaded: list[str] = []

    def put_bytes(self, key: str, body: bytes) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        self.uploaded.append(key)
        return key

    def put_json(self, key: str, obj) -> str:
        return self.put_bytes(key, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())

    def put_file(self, key: str, path: Path) -> str:
        return self.put_bytes(key, Path(path).read_bytes())


def get_json(s3, bucket: str, key: str):
    """The JSON object at key, or None if there is none (a 403 for a missing key included:
    functions.adapters.data_bucket.get_if_present)."""
    found = get_if_present(s3, bucket, key)
    return json.loads(found["Body"].read()) if found else None


def list_keys(s3, bucket: str, prefix: str):
    """Every key under prefix, in key order."""
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"]
