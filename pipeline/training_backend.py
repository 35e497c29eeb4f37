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
from typing import TYPE_CHECKING, Protocol

import numpy as np

from pipeline import run_input
from pipeline.promotion import Budgets
from pipeline.run_input import Training
from training.raw_layer import WINDOWS_FILE

if TYPE_CHECKING:
    from training.manifest import Manifest
    from training.params import TrainParams

DEFAULT_BACKEND = "pipeline.training_backend:GestureTraining"
EVALUATION_SEED = 9000  # fixed: every run scores candidate and current on the same streams
DENSE_GAP_S = (0.5, 1.5)  # seconds between gestures in the dense (quick succession) streams
DENSE_SEED_OFFSET = 100  # dense recordings' seeds (and file names) follow the spaced ones
HELD_DEG = (10.0, 30.0)  # held-differently copies: turned by this much about a random axis
HELD_NOISE_SI = (0.15, 0.15, 0.15, 1.5, 1.5, 1.5)  # and noisier (m/s^2, deg/s)


class TrainingBackend(Protocol):
    def parse(self, training: dict) -> Training:
        """The execution input's "training", checked (run_input.InvalidInput) and over the
        defaults of training/params.yml: the one parse a job does."""

    def train(
        self, device_windows: Path | None, out_dir: Path, layers_dir: Path, training: Training
    ) -> Manifest:
        """Train, evaluate and export a model folder into out_dir (manifest.json, model.py,
        model.mpy...) and return its manifest; the data layers it went through
        (intermediate ... reporting) go to layers_dir."""

    def evaluation_streams(self, out_dir: Path, training: Training) -> list[Path]:
        """Labelled 100 Hz recordings every model of this run is scored on."""

    def score(self, model_dir: Path, streams: list[Path]) -> dict:
        """{"score": float, ...details}: event-level quality of a model folder on the streams."""


def defaults(params: TrainParams | None = None) -> tuple[Training, tuple[str, ...]]:
    """(the retrain job's training when its input says nothing, the grids): training/params.yml
    (its `retrain` section, its seed and budgets)."""
    from training.params import load_params

    params = params or load_params()
    retrain = params.retrain
    training = run_input.Training(
        grid=retrain.grid, seed=params.seed, recordings=retrain.recordings,
        duration_s=retrain.duration_s, evaluation_recordings=retrain.evaluation_recordings,
        evaluation_duration_s=retrain.evaluation_duration_s,
        budgets=Budgets(params.budgets.model_mpy_bytes),
    )  # fmt: skip
    given = {name: getattr(training, name) for name in run_input.TRAINING_NUMBERS}
    given |= {"grid": training.grid, "budgets": {"model_mpy_bytes": params.budgets.model_mpy_bytes}}
    try:  # the defaults keep the bounds an execution input is held to (run_input's, one home)
        run_input.parse_training(given, training, tuple(params.grids))
    except run_input.InvalidInput as error:
        raise ValueError(f"training/params.yml: {error}") from None
    return training, tuple(params.grids)


def synthetic_gestures(training: Training) -> tuple[str, ...]:
    """The gestures of `training` the synthetic generator can make (its default set if none)."""
    from training.synthetic import DEFAULT_GESTURES, SHAPES

    given = training.gestures or DEFAULT_GESTURES
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
    joins the vocabulary). Parameters: pipeline/run_input.Training, defaults in
    training/params.yml.
    """

    def parse(self, training: dict) -> Training:
        return run_input.parse_training(training, *defaults())

    def train(
        self, device_windows: Path | None, out_dir: Path, layers_dir: Path, training: Training
    ) -> Manifest:
        from training.params import load_params
        from training.pipeline import train

        settings = load_params()
        settings.seed = training.seed
        settings.budgets.model_mpy_bytes = training.budgets.model_mpy_bytes
        data = out_dir.with_name(out_dir.name + "-recordings")
        gestures = synthetic_gestures(training)
        synthetic_set(data, training.seed, training.recordings, training.duration_s, gestures)
        if device_windows is not None:  # read as it is (training/raw_layer.py)
            (data / WINDOWS_FILE).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(device_windows, data / WINDOWS_FILE)
        return train(data, out_dir, training.grid, settings, layers_dir, print).manifest

    def evaluation_streams(self, out_dir: Path, training: Training) -> list[Path]:
        """Every gesture of `gestures` it can make; half with the usual pauses (and handling),
        half in quick succession (0.5-1.5 s apart), and a copy of each held 10-30 deg off and
        noisier: on spaced, level gestures alone any decent model scores 1.0, and a better one
        could never win."""
        count, gestures = training.evaluation_recordings, synthetic_gestures(training)
        duration = training.evaluation_duration_s
        return synthetic_set(out_dir, EVALUATION_SEED, count, duration, gestures, copies=count)

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
