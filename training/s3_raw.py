"""Fetch the bucket's raw layer (device windows from POST /samples) into a local folder.

The training job copies `raw/samples/...` objects to `<folder>/raw/samples/...` (same keys), then
trains on the folder (`training.raw_layer` reads it). Keys that are not raw-sample keys are
skipped; the key layout's single source of truth is `functions.storage_layout`.
"""

from __future__ import annotations

from pathlib import Path

from functions.storage_layout import parse_raw_sample_key, raw_samples_prefix


def download_raw_layer(s3, bucket: str, folder: Path, device_id: str | None = None) -> int:
    """Copy every raw-sample object (of one device, or all) to folder/<key>; returns the count."""
    paginator = s3.get_paginator("list_objects_v2")
    count = 0
    for page in paginator.paginate(Bucket=bucket, Prefix=raw_samples_prefix(device_id)):
        for obj in page.get("Contents", []):
            try:
                parse_raw_sample_key(obj["Key"])
            except ValueError:
                continue
            target = Path(folder) / obj["Key"]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3.download_file(bucket, obj["Key"], str(target))
            count += 1
    return count
