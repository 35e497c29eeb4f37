"""The seam between the retrain job and the training package (training/).

A backend trains a model folder, writes the evaluation streams, and scores a model folder on
them (higher is better). The job uses the backend named by PIPELINE_TRAINING_BACKEND
("module:attribute"), default `GestureTraining`; tests name a fast stand-in.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from typing import Protocol

import numpy as np

from pipeline import run_input
from training.raw_layer import WINDOWS_FILE

DEFAULT_BACKEND = "pipeline.training_backend:GestureTraining"
EVALUATION_SEED = 9000  # fixed: every run scores candidate and current on the same streams
DENSE_GAP_S = (0.5, 1.5)  # seconds between gestures in the dense (quick succession) streams
DENSE_SEED_OFFSET = 100  # dense recordings' seeds (and file names) follow the spaced ones
HELD_DEG = (10.0, 30.0)  # held-differently copies: turned by this much about a random axis
HELD_NOISE_SI = (0.15, 0.15, 0.15, 1.5, 1.5, 1.5)  # and noisier (m/s^2, deg/s)


class TrainingBackend(Protocol):
    def train(
        self, device_windows: Path | None, out_dir: Path, layers_dir: Path, params: dict
    ) -> Path:
        """Train, evaluate and export a model folder (manifest.json, model.py, model.mpy...);
        the data layers it went through (intermediate ... reporting) go to layers_dir."""

    def evaluation_streams(self, out_dir: Path, params: dict) -> list[Path]:
        """Labelled 100 Hz recordings every model of this run is scored on."""

    def score(self, model_dir: Path, streams: list[Path]) -> dict:
        """{"score": float, ...details}: event-level quality of a model folder on the streams."""

    def mpy_budget(self) -> int:
        """Bytes a model.mpy may have on the device."""

    def check(self, training: dict) -> None:
        """run_input.InvalidInput unless `training` is a valid execution input "training"."""


def synthetic_gestures(params: dict) -> tuple[str, ...]:
    """The gestures of `params` the synthetic generator can make (its default set if none)."""
    from training.synthetic import DEFAULT_GESTURES, SHAPES

    given = params.get("gestures") or DEFAULT_GESTURES
    return tuple(g for g in sorted(given) if g in SHAPES) or DEFAULT_GESTURES


def synthetic_set(
    folder: Path, seed: int, count: int, duration_s: float, gestures, copies: int | None = None
) -> list[Path]:
    """`count` labelled recordings, half spaced (with handling), half in quick succession,
    then `copies` (default half) of them again as a device held 10-30 deg off and noisier
    (`held-<name>`); all in `folder` itself: a folder of recordings, not of clips."""
    from training.augment import held_differently
    from training.recordings import labels_path_for, read_labels, read_recording, write_recording
    from training.synthetic import generate_dataset

    spaced = generate_dataset(folder, seed, (count + 1) // 2, duration_s, gestures=gestures)
    dense = generate_dataset(folder, seed + DENSE_SEED_OFFSET, count // 2, duration_s,
                             gestures=gestures, gap_s=DENSE_GAP_S)  # fmt: skip
    paths = spaced + dense
    held = []
    for k, path in enumerate(paths[: count // 2 if copies is None else copies]):
        samples = read_recording(path)
        turned = held_differently(samples[:, :6], seed + 200 + k, HELD_DEG, HELD_NOISE_SI)
        out = folder / f"held-{path.stem}.csv"
        events = read_labels(labels_path_for(path))
        held.append(write_recording(out, np.concatenate([turned, samples[:, 6:]], 1), events))
    return paths + held


def load_backend(spec: str | None = None) -> TrainingBackend:
    spec = spec or os.environ.get("PIPELINE_TRAINING_BACKEND") or DEFAULT_BACKEND
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"training backend must be 'module:attribute', got {spec!r}")
    return getattr(importlib.import_module(module_name), attr)()


class GestureTraining:
    """training/: the grid search on labelled recordings, event scoring with the device chain.

    Training data: synthetic recordings (training/synthetic.py) of the gestures it can make
    among "gestures" (the current model's, given by the job; default: the synthetic default
    set), half of them with gestures in quick succession and some held differently, plus the
    run's device windows: the collect job's windows.jsonl, which training/raw_layer.py reads
    as it is (labelled 100 Hz six-signal windows are used, whatever their label: a new gesture
    joins the vocabulary). Parameters (the execution input's "training"): grid (default
    "default"), seed (0), recordings (8) and duration_s (60) of the synthetic data,
    evaluation_recordings (4), gestures.
    """

    def check(self, training: dict) -> None:
        """The execution input's "training" (pipeline/run_input.py) plus "gestures": the
        vocabulary to keep (the job passes the current model's), well-formed names."""
        from training.params import load_params
        from training.recordings import is_gesture_name

        run_input.check_training(training, tuple(load_params().grids), extra_keys=("gestures",))
        gestures = training.get("gestures", [])
        if not isinstance(gestures, list) or not all(map(is_gesture_name, gestures)):
            raise run_input.InvalidInput(
                f"training.gestures must be a list of gesture names, got {gestures!r}"
            )

    def _check(self, params: dict) -> None:
        self.check(params)

    def train(
        self, device_windows: Path | None, out_dir: Path, layers_dir: Path, params: dict
    ) -> Path:
        from training.params import load_params
        from training.pipeline import train

        self._check(params)
        settings = load_params()
        settings.seed = int(params.get("seed", 0))
        data = out_dir.with_name(out_dir.name + "-recordings")
        count, duration = int(params.get("recordings", 8)), float(params.get("duration_s", 60))
        synthetic_set(data, settings.seed, count, duration, synthetic_gestures(params))
        if device_windows is not None:  # read as it is (training/raw_layer.py)
            (data / WINDOWS_FILE).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(device_windows, data / WINDOWS_FILE)
        result = train(data, out_dir, params.get("grid", "default"), settings, layers_dir, print)
        return result.model_dir

    def evaluation_streams(self, out_dir: Path, params: dict) -> list[Path]:
        """Every gesture of `gestures` it can make; half with the usual pauses (and handling),
        half in quick succession (0.5-1.5 s apart), and a copy of each held 10-30 deg off and
        noisier: on spaced, level gestures alone any decent model scores 1.0, and a better one
        could never win."""
        self._check(params)
        count = int(params.get("evaluation_recordings", 4))
        gestures = synthetic_gestures(params)
        return synthetic_set(out_dir, EVALUATION_SEED, count, 60.0, gestures, copies=count)

    def score(self, model_dir: Path, streams: list[Path]) -> dict:
        from training.detect import detect_samples
        from training.evaluation import Detection, EventScore, score_events
        from training.params import load_params
        from training.recordings import STEP_MS, labels_path_for, read_labels, read_recording

        tolerance = load_params().tolerance_ms
        total = EventScore()
        for path in streams:
            samples = read_recording(path)
            found = [Detection(**e) for e in detect_samples(model_dir, samples)]
            truth = read_labels(labels_path_for(path))
            total = total.add(score_events(truth, found, tolerance, len(samples) * STEP_MS))
        return {"score": round(total.f1, 4), **total.as_dict()}

    def mpy_budget(self) -> int:
        from training.params import load_params

        return int(load_params().budgets["mpy_bytes"])
