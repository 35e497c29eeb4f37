"""A fast stand-in for the training package, chosen through PIPELINE_TRAINING_BACKEND.

Behaviour comes from the execution input's `training.fake`: {"score": float (default 0.5),
"version": str (a model version, e.g. V1 below), "classes": list (default: idle and the
synthetic recordings' gestures, the classes of a real model trained without labelled device
data), "mpy_bytes": int (default 1000), "fail": bool, "score_delay_s": float (each scoring
takes that long: widens the window in which concurrent runs race)}. The model folder is a
constant model with a manifest training's `Manifest` accepts (training.manifest.
constant_model); the score is stored in its metrics, so a later run scores the then-current
model the same way. The rest of the input is parsed as for the real training.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from pipeline import run_input
from pipeline.training_backend import defaults
from training.manifest import Manifest, constant_model
from training.synthetic import SHAPES

DEFAULT_CLASSES = ["idle", *sorted(SHAPES)]
# model versions the tests name (a fake's default version follows from its score)
V1, V2, V3, VA, VB = (f"2026010100000{i}-0000000{i}" for i in range(1, 6))


class FakeTraining:
    def parse(self, training: dict) -> run_input.Training:
        base, _ = defaults()
        return run_input.parse_training(training, base, ("default", "tiny"), extra_keys=("fake",))

    def train(
        self, device_windows: Path | None, out_dir: Path, layers_dir: Path, training
    ) -> Manifest:
        fake = training.extra.get("fake", {})
        if fake.get("fail"):
            raise RuntimeError("fake training failed on purpose")
        windows = device_windows.read_text().count("\n") if device_windows else 0
        score = fake.get("score", 0.5)
        digest = hashlib.sha256(str(score).encode()).hexdigest()[:8]
        metrics = {"fake_score": score, "device_windows": windows}
        manifest = constant_model(
            out_dir,
            list(fake.get("classes", DEFAULT_CLASSES)),  # the fleet's vocabulary
            fake.get("version", f"20260101000000-{digest}"),
            mpy=b"M" * int(fake.get("mpy_bytes", 1000)),
            metrics=metrics,
        )
        (layers_dir / "08_reporting").mkdir(parents=True, exist_ok=True)
        (layers_dir / "08_reporting" / "metrics.json").write_text(json.dumps(metrics))
        return manifest

    score_delay_s = 0.0

    def evaluation_streams(self, out_dir: Path, training) -> list[Path]:
        self.score_delay_s = float(training.extra.get("fake", {}).get("score_delay_s", 0.0))
        out_dir.mkdir(parents=True, exist_ok=True)
        stream = out_dir / "stream-0.csv"
        stream.write_text("acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,ms\n")
        return [stream]

    def score(self, model_dir: Path, streams: list[Path]) -> dict:
        time.sleep(self.score_delay_s)
        manifest = json.loads((model_dir / "manifest.json").read_text())
        return {"score": manifest["metrics"]["fake_score"], "streams": len(streams)}
