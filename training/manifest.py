"""The model folder's manifest.json: the single source of truth for what a device must compute.

Written by `gesture-stack train`, served by GET /model, read by the firmware's Detector (as a
plain dict) and by `gesture-stack detect`. Validate with `Manifest.model_validate(dict)`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from gesture.features import STATS
from gesture.spec import CAPTURE_HZ, MANIFEST_FILE, MODEL_FILES, MODEL_MPY, MODEL_SOURCE, SIGNALS
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from training.evaluation import votes_threshold

SCHEMA = 2  # 2: integer features and model (class votes, score_scale); 1 scored floats


class FileInfo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    bytes: int = Field(ge=0)


class PostProcess(BaseModel):
    """Debouncer parameters in inferences (see gesture.postprocess); `threshold` is the
    calibrated probability, `threshold_votes` the same in the model's votes (what the device
    compares)."""

    model_config = ConfigDict(extra="forbid")
    threshold: float = Field(ge=0, le=1)
    threshold_votes: int = Field(ge=0)
    min_hits: int = Field(ge=1)
    max_gap: int = Field(0, ge=0)
    refractory: int = Field(0, ge=0)
    time_offset: int = 0


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    schema_version: Literal[2] = Field(SCHEMA, alias="schema")
    version: str = Field(pattern=r"^\d{14}-[0-9a-f]{8}$")
    created: str
    capture_hz: int = CAPTURE_HZ
    rate_hz: int
    decimation: int
    window: int = Field(ge=2)
    hop: int = Field(1, ge=1)
    signals: list[str]
    features: dict
    classes: list[str]
    score_scale: int = Field(ge=1)  # the model's votes per window, summed over the classes
    postprocess: PostProcess
    files: dict[str, FileInfo]
    metrics: dict = Field(default_factory=dict)
    estimator: dict = Field(default_factory=dict)

    @field_validator("signals")
    @classmethod
    def _known_signals(cls, v: list[str]) -> list[str]:
        if not v or not set(v) <= set(SIGNALS) or len(set(v)) != len(v):
            raise ValueError(f"signals must be distinct names from {SIGNALS}")
        return v

    @field_validator("features")
    @classmethod
    def _known_features(cls, v: dict) -> dict:
        if set(v) - {"time_points", "stats"} or not set(v.get("stats", [])) <= set(STATS):
            raise ValueError(f"features: time_points (bool) and stats (subset of {STATS})")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.rate_hz * self.decimation != self.capture_hz:
            raise ValueError("rate_hz * decimation must equal capture_hz")
        if "idle" not in self.classes:
            raise ValueError("classes must include 'idle'")
        pp = self.postprocess
        if pp.threshold_votes != votes_threshold(pp.threshold, self.score_scale):
            raise ValueError("postprocess.threshold_votes must be ceil(threshold x score_scale)")
        missing = set(MODEL_FILES) - set(self.files)
        if missing:
            raise ValueError(f"files must describe {sorted(missing)}")
        return self

    def to_json(self) -> str:
        return json.dumps(self.model_dump(by_alias=True), indent=2)


def make_version(model_py_sha256: str, when: datetime | None = None) -> tuple[str, str]:
    """(version, created) for a model: `<yyyymmddHHMMSS>-<sha256[:8] of model.py>`."""
    when = when or datetime.now(UTC)
    return f"{when:%Y%m%d%H%M%S}-{model_py_sha256[:8]}", when.isoformat(timespec="seconds")


def read_manifest(model_dir: Path) -> Manifest:
    """Load and validate a model folder's manifest; clear error when missing or invalid."""
    path = Path(model_dir) / MANIFEST_FILE
    if not path.exists():
        raise FileNotFoundError(f"no {MANIFEST_FILE} in {model_dir}: not a model folder")
    return Manifest.model_validate_json(path.read_text())


def write_manifest(model_dir: Path, manifest: Manifest) -> Path:
    path = Path(model_dir) / MANIFEST_FILE
    path.write_text(manifest.to_json() + "\n")
    return path


def constant_model(
    folder: Path,
    classes: list[str],
    version: str | None = None,
    mpy: bytes | None = None,
    metrics: dict | None = None,
) -> Manifest:
    """A model folder whose model answers its first class (idle) for every window, with a
    manifest `Manifest` accepts: the placeholder of the local handlers' demo and of fast
    stand-ins for training. `mpy`: the model.mpy bytes (default: model.py compiled)."""
    from training.export import compile_mpy, file_info

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    source = "def score(w, b, f, o):\n    o[0] = 1\n"  # the device's signature (gesture.detector)
    source += "".join(f"    o[{c}] = 0\n" for c in range(1, len(classes))) + "    return o\n"
    (folder / MODEL_SOURCE).write_text(source)
    if mpy is None:
        compile_mpy(source, folder / MODEL_MPY)
    else:
        (folder / MODEL_MPY).write_bytes(mpy)
    files = {name: FileInfo(**file_info(folder / name)) for name in MODEL_FILES}
    made, created = make_version(files[MODEL_SOURCE].sha256)
    rate_hz = 10
    manifest = Manifest(
        version=version or made, created=created, rate_hz=rate_hz,
        decimation=CAPTURE_HZ // rate_hz, window=10, signals=list(SIGNALS),
        features={"time_points": False, "stats": ["mean"]}, classes=list(classes),
        score_scale=1, files=files, metrics=metrics or {},
        postprocess=PostProcess(threshold=1.0, threshold_votes=1, min_hits=1),
    )  # fmt: skip
    write_manifest(folder, manifest)
    return manifest
