"""Collect job: export a time range of device data into a run's raw layer.

- sample windows: raw/samples/ in the bucket (functions/storage_layout.py), kept when their
  UTC day is within [TIME_FROM, TIME_TO], with their labels -> runs/<run_id>/raw/windows.jsonl
  (one object a line, training/raw_layer.py's format: retrain trains on the file as it is)
- gesture events: the events table's fleet index (EventsTable.fleet_day: every shard of a UTC
  day, merged in time order), day by day over the range
  (TIME_FROM defaults to EVENTS_LOOKBACK_DAYS before TIME_TO; at most MAX_RANGE_DAYS days,
  pipeline/run_input.py) -> runs/<run_id>/raw/events.jsonl
- runs/<run_id>/raw/manifest.json: what it took (filter, counts, digest of the window keys)

Same run id and data -> same output, so a retried build is harmless.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import boto3

from functions import storage_layout
from functions.adapters.dynamo_items import from_item
from functions.adapters.events_table import EventsTable
from functions.domain.events import fleet_key_range
from functions.settings import Settings
from pipeline import run_layout
from pipeline.artifacts import ArtifactSink, list_keys, s3_client
from pipeline.jobs.result import run_job
from pipeline.run_input import EVENTS_LOOKBACK_DAYS, check_range
from pipeline.settings import JobSettings
from pipeline.training_backend import load_backend
from training.raw_layer import window_row

# Above this many events in the range, read a DynamoDB export instead of Query pages: an hour
# of Query pages at ~2.5 MB/s (docs/capacity.py derives it; docs/scale.md explains it).
EXPORT_THRESHOLD_EVENTS = 22_500_000
_ALL_FLEET_KEYS = fleet_key_range()  # every event of a day's fleet partition


def in_range(day: str, start: date | None, end: date | None) -> bool:
    """Whether a raw key's UTC day falls within [start, end] (None = unbounded)."""
    d = date.fromisoformat(day)
    return (start is None or d >= start) and (end is None or d <= end)


def event_days(start: date | None, end: date | None, today: date) -> list[str]:
    """The UTC days (fleet index partitions) to read, oldest first."""
    last = end or today
    first = start or last - timedelta(days=EVENTS_LOOKBACK_DAYS)
    return [(first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1)]


def jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in rows).encode()


def export_windows(settings: JobSettings, s3) -> tuple[list[dict], str]:
    rows, digest = [], hashlib.sha256()
    for key in list_keys(s3, settings.bucket, storage_layout.raw_samples_prefix()):
        try:
            parts = storage_layout.parse_raw_sample_key(key)
        except ValueError:
            continue  # not a sample window (a stray object); never part of the export
        if in_range(str(parts["date"]), settings.time_from, settings.time_to):
            window = json.loads(s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read())
            rows.append(window_row(key, parts["device_id"], window))
            digest.update(key.encode() + b"\n")
    return rows, digest.hexdigest()


def export_events(settings: JobSettings, dynamodb, days: list[str]) -> list[dict]:
    """Every event of the days, oldest first, through the fleet reader (all shards merged)."""
    table = EventsTable(dynamodb, settings.events_table)
    rows = []
    for day in days:
        rows += reversed(list(table.fleet_day(day, *_ALL_FLEET_KEYS)))
    return rows


def estimated_events(dynamodb, table: str, days: int) -> float:
    """Events in a range of `days`, from the table's item count (DynamoDB updates it about
    every six hours): half the items are id markers, spread over the retention period."""
    count = dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0)
    return count / 2 * min(1.0, days / Settings.events_retention_days)


def choose_path(settings: JobSettings, dynamodb, days: list[str]) -> str:
    """COLLECT_PATH if set, else "export" above EXPORT_THRESHOLD_EVENTS (docs/scale.md)."""
    if settings.collect_path:
        return settings.collect_path
    estimate = estimated_events(dynamodb, settings.events_table, len(days))
    return "export" if estimate > EXPORT_THRESHOLD_EVENTS else "query"


def export_events_from_table_export(
    settings: JobSettings, dynamodb, s3, days: list[str], poll_s: float = 30.0
) -> list[dict]:
    """The same rows as export_events, read from an export of the table to S3
    (ExportTableToPointInTime: no read capacity used; the table has point-in-time recovery)."""
    arn = dynamodb.describe_table(TableName=settings.events_table)["Table"]["TableArn"]
    prefix = run_layout.raw_export_prefix(settings.run_id)
    export = dynamodb.export_table_to_point_in_time(
        TableArn=arn, S3Bucket=settings.bucket, S3Prefix=prefix, ExportFormat="DYNAMODB_JSON"
    )["ExportDescription"]
    while export["ExportStatus"] == "IN_PROGRESS":
        time.sleep(poll_s)
        export = dynamodb.describe_export(ExportArn=export["ExportArn"])["ExportDescription"]
    if export["ExportStatus"] != "COMPLETED":
        raise RuntimeError(
            f"the export of {settings.events_table} ended {export['ExportStatus']}: "
            f"{export.get('FailureCode')}: {export.get('FailureMessage')}"
        )
    wanted, rows = set(days), []
    for key in list_keys(s3, settings.bucket, prefix + "/AWSDynamoDB/"):
        if "/data/" not in key or not key.endswith(".gz"):
            continue  # manifests and checksums
        body = gzip.decompress(s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read())
        for line in body.decode().splitlines():
            record = from_item(json.loads(line)["Item"]) if line.strip() else {}
            if "fleet_key" in record and record.get("day") in wanted:
                rows.append(record)  # id markers have no fleet_key
    return sorted(rows, key=lambda r: (r["day"], r["fleet_key"]))


def collect(
    settings: JobSettings,
    s3,
    dynamodb=None,
    today: date | None = None,
    backend=None,
    export_poll_s: float = 30.0,
) -> dict:
    """Export the run's windows and events; the input (range, and the training the run will
    use, when `backend` is given) is checked first, so a bad run stops before any work."""
    today = today or datetime.now(UTC).date()
    if backend is not None:
        backend.parse(settings.training)
    first, last = check_range(settings.time_from, settings.time_to, today, settings.max_range_days)
    sink = ArtifactSink(settings.bucket, settings.work_dir / "s3", s3)
    windows, keys_sha256 = export_windows(settings, s3)
    sink.put_bytes(run_layout.raw_windows_key(settings.run_id), jsonl(windows))
    days = event_days(first, last, today)
    path = choose_path(settings, dynamodb, days) if settings.events_table else None
    if path == "export":
        events = export_events_from_table_export(settings, dynamodb, s3, days, export_poll_s)
    else:
        events = export_events(settings, dynamodb, days) if settings.events_table else []
    sink.put_bytes(run_layout.raw_events_key(settings.run_id), jsonl(events))
    manifest = {
        "schema": 1,
        "run_id": settings.run_id,
        "stage": settings.stage,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "time_from": settings.time_from.isoformat() if settings.time_from else None,
        "time_to": settings.time_to.isoformat() if settings.time_to else None,
        "windows": {
            "source_prefix": storage_layout.raw_samples_prefix(),
            "count": len(windows),
            "keys_sha256": keys_sha256,
            "by_device": dict(sorted(Counter(w["device_id"] for w in windows).items())),
            "by_label": dict(sorted(Counter(str(w.get("label")) for w in windows).items())),
        },
        "events": {
            "table": settings.events_table or None,
            "days": [days[0], days[-1]] if settings.events_table else None,
            "path": path,
            "count": len(events),
            "by_gesture": dict(sorted(Counter(e["gesture"] for e in events).items())),
        },
    }
    manifest_key = sink.put_json(run_layout.raw_manifest_key(settings.run_id), manifest)
    return {
        "run_id": settings.run_id,
        "windows": len(windows),
        "events": len(events),
        "manifest_key": manifest_key,
    }


def main() -> int:
    def work(settings: JobSettings) -> dict:
        dynamodb = boto3.client("dynamodb") if settings.events_table else None
        return collect(settings, s3_client(), dynamodb, backend=load_backend())

    return run_job("collect", work)


if __name__ == "__main__":
    sys.exit(main())
