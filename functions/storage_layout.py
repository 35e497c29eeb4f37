"""S3 key layout of the data bucket: the one place that knows where things live.

Used by the API (samples, GET /model), the local API and the pipeline (training reads the
raw layer; promotion writes the current-model pointer). Pure functions, no AWS calls.

Raw layer (device uploads, one JSON object per window, written by POST /samples):
    raw/samples/device=<device_id>/date=<YYYY-MM-DD>/<t_ms:013d>-<sha256[:16]>.json
    `date` is the UTC day of the window's device time t_ms; the object is the validated
    SampleWindow plus "device_id" and "received_at" (ISO time). Same window -> same key.

Models (written by the pipeline or LocalCloud.publish_model):
    models/<version>/manifest.json, model.py, model.mpy, report.html, vectors.json, ...
    models/current.json = {"schema": 1, "version": "<version>", "prefix": "models/<version>/"}
    The pointer is written last, so a reader never sees a version whose files are missing.
    models/vocabulary.json = {"schema": 1, "gestures": [...], "versions": {"<version>": [...]}}
    The gestures of every published version (functions/domain/vocabulary.py), written before
    the pointer: what POST /events accepts.

Pipeline run records (written by the pipeline's jobs, pipeline/run_layout.py builds the keys;
read by GET /models for the dashboard):
    runs/<run_id>/raw/manifest.json           what the collect job took (counts, created)
    runs/<run_id>/reporting/promotion.json    why the retrain job's candidate was (not) promoted
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

RAW_SAMPLES_PREFIX = "raw/samples/"
MODELS_PREFIX = "models/"
CURRENT_MODEL_KEY = "models/current.json"
VOCABULARY_KEY = "models/vocabulary.json"
MODEL_FILE_NAMES = ("model.mpy", "model.py")
MANIFEST_NAME = "manifest.json"
RUNS_PREFIX = "runs/"
RUN_RAW_MANIFEST = "raw/manifest.json"
RUN_PROMOTION_REPORT = "reporting/promotion.json"

DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
VERSION_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
_RAW_KEY = re.compile(
    r"^raw/samples/device=(?P<device_id>[A-Za-z0-9_-]{1,64})/date=(?P<date>\d{4}-\d{2}-\d{2})/"
    r"(?P<t_ms>\d{13})-(?P<digest>[0-9a-f]{16})\.json$"
)


def utc_day(t_ms: int) -> str:
    """The UTC calendar day ("YYYY-MM-DD") of a time in ms since the epoch."""
    return datetime.fromtimestamp(t_ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def raw_sample_key(device_id: str, t_ms: int, sha256_hex: str) -> str:
    """Key of one raw sample window in the raw layer."""
    return (
        f"{RAW_SAMPLES_PREFIX}device={device_id}/date={utc_day(t_ms)}/"
        f"{t_ms:013d}-{sha256_hex[:16]}.json"
    )


def raw_samples_prefix(device_id: str | None = None, day: str | None = None) -> str:
    """Prefix to list the raw layer: everything, one device, or one device and day."""
    if device_id is None:
        return RAW_SAMPLES_PREFIX
    prefix = f"{RAW_SAMPLES_PREFIX}device={device_id}/"
    return prefix if day is None else f"{prefix}date={day}/"


def parse_raw_sample_key(key: str) -> dict[str, str | int]:
    """Split a raw-layer key into device_id, date, t_ms and digest; ValueError if it is not one."""
    match = _RAW_KEY.match(key)
    if match is None:
        raise ValueError(f"not a raw sample key: {key!r}")
    parts: dict[str, str | int] = match.groupdict()
    parts["t_ms"] = int(parts["t_ms"])
    return parts


def model_prefix(version: str) -> str:
    """Folder of one model version."""
    if not re.fullmatch(VERSION_PATTERN, version):
        raise ValueError(f"bad model version: {version!r}")
    return f"{MODELS_PREFIX}{version}/"


def model_file_key(version: str, name: str) -> str:
    """Key of one file of a model version (manifest.json, model.mpy, ...)."""
    return model_prefix(version) + name


def current_pointer(version: str) -> dict[str, str | int]:
    """Body of models/current.json that makes `version` the served model."""
    return {"schema": 1, "version": version, "prefix": model_prefix(version)}


def run_record_key(run_id: str, name: str) -> str:
    """Key of one of a pipeline run's records (RUN_RAW_MANIFEST, RUN_PROMOTION_REPORT)."""
    return f"{RUNS_PREFIX}{run_id}/{name}"
