"""Train a small model fast (seconds) for firmware tests and the demo."""

from __future__ import annotations

import tempfile
from pathlib import Path

from training.params import load_params
from training.pipeline import TrainResult, train
from training.synthetic import generate_dataset


def train_tiny(
    out: Path, data: Path | None = None, seed: int = 0, recordings: int = 4, duration_s: float = 60
) -> TrainResult:
    """Train the `tiny` grid into model folder `out`; without `data`, on fresh synthetic
    recordings (seeded, so the same arguments give the same model apart from its timestamp)."""
    params = load_params()
    params.seed = seed
    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        if data is None:
            data = Path(tmp) / "recordings"
            generate_dataset(data, seed=seed, count=recordings, duration_s=duration_s)
        return train(data, out, "tiny", params, layers=Path(tmp) / "layers")
