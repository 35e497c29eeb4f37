"""Run exactly the device pipeline over a recording on the host (CPython).

SI samples -> `gesture.units.si_to_raw` (as the fake I2C device does) -> `gesture.detector`
with the m2cgen model from the model folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
from gesture.detector import Detector
from gesture.spec import MODEL_SOURCE
from gesture.units import si_to_raw

from training.manifest import Manifest, read_manifest
from training.recordings import STEP_MS

ScoreFn = Callable[[list], list]


def load_score(model_dir: Path) -> ScoreFn:
    """The `score` function of a model folder's model.py (m2cgen output)."""
    source = (Path(model_dir) / MODEL_SOURCE).read_text()
    namespace: dict = {}
    exec(compile(source, MODEL_SOURCE, "exec"), namespace)
    if "score" not in namespace:
        raise ValueError(f"{model_dir}/{MODEL_SOURCE} defines no score()")
    return namespace["score"]


def load_model(model_dir: Path) -> tuple[Manifest, ScoreFn]:
    return read_manifest(model_dir), load_score(model_dir)


def detect_raw(manifest: Manifest, score: ScoreFn, counts: Iterable) -> list[dict]:
    """Events from raw int16 samples (an iterable of 6-tuples)."""
    det = Detector(manifest.model_dump(by_alias=True), score)
    events = []
    for ax, ay, az, gx, gy, gz in counts:
        ev = det.push(ax, ay, az, gx, gy, gz)
        if ev:
            events.append({"t_ms": ev[0] * STEP_MS, "gesture": ev[1], "score": round(ev[2], 4)})
    return events


def detect_samples(model_dir: Path, samples: np.ndarray) -> list[dict]:
    """Events in a recording's SI samples (N x 6 or N x 7 with ms)."""
    manifest, score = load_model(model_dir)
    counts = (si_to_raw(*row) for row in np.asarray(samples)[:, :6].tolist())
    return detect_raw(manifest, score, counts)
