"""Training parameters: training/params.yml parsed into typed settings, and grids expanded."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PARAMS_FILE = Path(__file__).with_name("params.yml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitParams(_Strict):
    test_fraction: float = Field(0.2, gt=0, lt=1)
    folds: int = Field(3, ge=2)
    rest_gap_s: tuple[float, float] = (0.0, 0.0)
    chunk_s: float = 30.0
    stream_s: float = 120.0


class WindowParams(_Strict):
    stride: int = Field(2, ge=1)
    positive_min_fraction: float = Field(0.85, gt=0, le=1)
    negative_max_fraction: float = Field(0.4, ge=0, lt=1)
    class_weight: str | None = "balanced"


class AugmentParams(_Strict):
    copies: int = Field(0, ge=0)
    speed: tuple[float, float] = (1.0, 1.0)
    amplitude: tuple[float, float] = (1.0, 1.0)
    rotated_copies: int = Field(0, ge=0)
    rotation_deg: float = Field(0.0, ge=0, le=90)


class CalibrationGrid(_Strict):
    threshold: list[float]
    min_hits: list[int]
    max_gap: list[int]
    refractory_s: list[float]


class Candidate(_Strict):
    """One point of a grid: what the device computes and which trees."""

    rate_hz: int
    signals: tuple[str, ...]
    features: dict
    estimator: str
    n_estimators: int = 1
    max_depth: int | None = None
    max_leaf_nodes: int | None = None

    @property
    def key(self) -> str:
        feats = ("tp" if self.features.get("time_points", True) else "") + (
            "+" + ",".join(self.features.get("stats", [])) if self.features.get("stats") else ""
        )
        sig = "".join(s[0] + s[-1] for s in self.signals)
        return (
            f"{self.estimator}-{self.rate_hz}hz-{sig}-{feats}-t{self.n_estimators}"
            f"-d{self.max_depth}-l{self.max_leaf_nodes}"
        )


class Budgets(_Strict):
    """What a model may cost on the device: bytes of the model.mpy it imports."""

    model_mpy_bytes: int = Field(ge=1)


class RetrainDefaults(_Strict):
    """The pipeline's retrain job: what its execution input's "training" may leave out (the
    seed and the budget are TrainParams' own)."""

    grid: str
    recordings: int = Field(ge=1)
    duration_s: float = Field(gt=0)
    evaluation_recordings: int = Field(ge=1)
    evaluation_duration_s: float = Field(gt=0)


class TrainParams(_Strict):
    seed: int = 0
    split: SplitParams
    windows: WindowParams
    augment: AugmentParams = AugmentParams()
    evaluation: dict
    calibration: CalibrationGrid
    selection_calibration: CalibrationGrid
    budgets: Budgets
    retrain: RetrainDefaults
    vectors: int = 300
    final_fit: Literal["all", "dev"] = "all"
    grids: dict[str, list[dict]]

    @model_validator(mode="after")
    def _known_retrain_grid(self) -> TrainParams:
        if self.retrain.grid not in self.grids:
            raise ValueError(f"retrain.grid {self.retrain.grid!r} is not one of the grids")
        return self

    @property
    def tolerance_ms(self) -> int:
        return int(self.evaluation.get("tolerance_ms", 250))

    def grid(self, name: str) -> list[Candidate]:
        """Expand a named grid into its candidates (blocks are cartesian products)."""
        if name not in self.grids:
            raise ValueError(f"unknown grid {name!r}; known: {sorted(self.grids)}")
        out = []
        for block in self.grids[name]:
            keys = list(block)
            for values in itertools.product(*(block[k] for k in keys)):
                out.append(Candidate(**dict(zip(keys, values, strict=True))))
        return out


def load_params(path: Path | None = None) -> TrainParams:
    """Read and validate the params file (training/params.yml by default)."""
    with Path(path or PARAMS_FILE).open() as f:
        return TrainParams.model_validate(yaml.safe_load(f))
