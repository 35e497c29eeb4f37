"""The seam between the retrain job and the training package (training/, issue #4).

A backend trains a model folder, makes the evaluation streams, and scores a model folder on
them (higher is better). The job picks the backend named by PIPELINE_TRAINING_BACKEND
("module:attribute"), default `GestureTraining`; tests name a fast stand-in.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import Protocol

DEFAULT_BACKEND = "pipeline.training_backend:GestureTraining"


class TrainingBackend(Protocol):
    def train(self, device_windows: Path | None, out_dir: Path, params: dict) -> Path:
        """Train, evaluate and export a model folder (manifest.json, model.py, model.mpy...)."""

    def evaluation_streams(self, out_dir: Path, params: dict) -> list[Path]:
        """Labelled 100 Hz recordings every model of this run is scored on."""

    def score(self, model_dir: Path, streams: list[Path]) -> dict:
        """{"score": float, ...details}: event-level quality of a model folder on the streams."""


def load_backend(spec: str | None = None) -> TrainingBackend:
    spec = spec or os.environ.get("PIPELINE_TRAINING_BACKEND") or DEFAULT_BACKEND
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"training backend must be 'module:attribute', got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)()


class GestureTraining:
    """The real training pipeline (training/): synthetic + seed data plus the device windows."""

    def train(self, device_windows: Path | None, out_dir: Path, params: dict) -> Path:
        from training import pipeline as training_pipeline

        return Path(training_pipeline.train_model(out_dir, device_windows=device_windows, **params))

    def evaluation_streams(self, out_dir: Path, params: dict) -> list[Path]:
        from training import synthetic

        return list(synthetic.write_evaluation_streams(out_dir, **params.get("evaluation", {})))

    def score(self, model_dir: Path, streams: list[Path]) -> dict:
        from training import evaluate

        return dict(evaluate.score_model_dir(model_dir, streams))
