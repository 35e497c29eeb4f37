"""S3 keys of pipeline runs: one folder per run, data layers named for what they hold.

    runs/<run_id>/raw/windows.jsonl        device sample windows the collect job exported
    runs/<run_id>/raw/events.jsonl         gesture events the devices reported in that range
    runs/<run_id>/raw/manifest.json        what the collect job took (filter, counts, digest)
    runs/<run_id>/models/<version>/<file>  the model folder the retrain job trained
    runs/<run_id>/layers/<layer>/<file>    training's data layers (02_intermediate ... 08_reporting)
    runs/<run_id>/reporting/promotion.json why the candidate was (not) promoted

Device uploads, the current-model pointer and the names of the run records the API reads
(raw manifest, promotion report) live in functions/storage_layout.py; this module builds the
run keys. Pure functions, no AWS calls.
"""

from __future__ import annotations

import re

from functions.storage_layout import RUN_PROMOTION_REPORT, RUNS_PREFIX
from functions.storage_layout import RUN_RAW_MANIFEST as RAW_MANIFEST

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,80}$")


def check_run_id(run_id: str) -> str:
    """The run id itself, or ValueError: it becomes part of S3 keys and file paths."""
    if not RUN_ID_PATTERN.match(run_id or ""):
        raise ValueError(f"bad run id {run_id!r}: use 1-80 of A-Z a-z 0-9 . _ -")
    return run_id


def run_prefix(run_id: str) -> str:
    return f"{RUNS_PREFIX}{check_run_id(run_id)}/"


def raw_windows_key(run_id: str) -> str:
    return run_prefix(run_id) + "raw/windows.jsonl"


def raw_events_key(run_id: str) -> str:
    return run_prefix(run_id) + "raw/events.jsonl"


def raw_export_prefix(run_id: str) -> str:
    """Where a DynamoDB export of the events table lands for the collect job (no trailing /:
    the export adds /AWSDynamoDB/<export id>/data/...)."""
    return f"{run_prefix(run_id)}raw/export"


def raw_manifest_key(run_id: str) -> str:
    return run_prefix(run_id) + RAW_MANIFEST


def run_model_key(run_id: str, version: str, name: str) -> str:
    return run_prefix(run_id) + f"models/{version}/{name}"


def run_layer_key(run_id: str, relative: str) -> str:
    return run_prefix(run_id) + f"layers/{relative}"


def promotion_report_key(run_id: str) -> str:
    return run_prefix(run_id) + RUN_PROMOTION_REPORT


def run_id_of_raw_manifest(key: str) -> str | None:
    """The run id if `key` is a run's raw manifest, else None."""
    if not (key.startswith(RUNS_PREFIX) and key.endswith("/" + RAW_MANIFEST)):
        return None
    run_id = key[len(RUNS_PREFIX) : -len("/" + RAW_MANIFEST)]
    return run_id if RUN_ID_PATTERN.match(run_id) else None
