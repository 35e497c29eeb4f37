"""Collect job: export the device sample windows of a time range into a run's raw layer.

Reads raw/samples/ (functions/storage_layout.py), keeps windows whose UTC day is within
[TIME_FROM, TIME_TO], and writes runs/<run_id>/raw/windows.jsonl plus a manifest of what it
took. Same run id -> same output, so a retried build is harmless.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from collections import Counter
from datetime import UTC, date, datetime

from functions import storage_layout
from pipeline import run_layout
from pipeline.artifacts import ArtifactSink, list_keys, s3_client
from pipeline.jobs.result import write_result
from pipeline.settings import JobSettings, SettingsError


def in_range(day: str, start: date | None, end: date | None) -> bool:
    """Whether a raw key's UTC day falls within [start, end] (None = unbounded)."""
    d = date.fromisoformat(day)
    return (start is None or d >= start) and (end is None or d <= end)


def collect(settings: JobSettings, s3) -> dict:
    sink = ArtifactSink(settings.bucket, settings.work_dir / "s3", s3)
    lines, devices, labels, digest = [], Counter(), Counter(), hashlib.sha256()
    for key in list_keys(s3, settings.bucket, storage_layout.raw_samples_prefix()):
        try:
            parts = storage_layout.parse_raw_sample_key(key)
        except ValueError:
            continue  # not a sample window (a stray object); never part of the export
        if not in_range(str(parts["date"]), settings.time_from, settings.time_to):
            continue
        window = json.loads(s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read())
        lines.append(json.dumps({"key": key, **window}, sort_keys=True))
        devices[str(parts["device_id"])] += 1
        labels[str(window.get("label"))] += 1
        digest.update(key.encode() + b"\n")
    body = ("\n".join(lines) + "\n").encode() if lines else b""
    windows_key = sink.put_bytes(run_layout.raw_windows_key(settings.run_id), body)
    manifest = {
        "schema": 1,
        "run_id": settings.run_id,
        "stage": settings.stage,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_prefix": storage_layout.raw_samples_prefix(),
        "time_from": settings.time_from.isoformat() if settings.time_from else None,
        "time_to": settings.time_to.isoformat() if settings.time_to else None,
        "windows": len(lines),
        "windows_key": windows_key,
        "keys_sha256": digest.hexdigest(),
        "by_device": dict(sorted(devices.items())),
        "by_label": dict(sorted(labels.items())),
    }
    manifest_key = sink.put_json(run_layout.raw_manifest_key(settings.run_id), manifest)
    return {
        "run_id": settings.run_id,
        "windows": len(lines),
        "devices": len(devices),
        "manifest_key": manifest_key,
    }


def main() -> int:
    try:
        settings = JobSettings.from_env("collect")
    except SettingsError as exc:
        print(f"collect: {exc}", file=sys.stderr)
        return 2
    shutil.rmtree(settings.work_dir, ignore_errors=True)  # a retried build starts clean
    result = collect(settings, s3_client())
    write_result(settings.work_dir, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
