"""A fast stand-in for the training package, chosen through PIPELINE_TRAINING_BACKEND.

Behaviour comes from the execution input's `training.fake`: {"score": float (default 0.5),
"version": str, "classes": list (default: idle and the synthetic recordings' gestures, the
classes of a real model trained without labelled device data), "mpy_bytes": int (default
1000), "fail": bool, "score_delay_s": float (each scoring takes that long: widens the window
in which concurrent runs race)}. The score is stored in the model's manifest, so a later run
scores the then-current model the same way. The manifest's classes and files (sha256, size)
are what publication needs: the classes become the fleet's vocabulary.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from pipeline import run_input
from training.synthetic import SHAPES

DEFAULT_CLASSES = ["idle", *sorted(SHAPES)]


class FakeTraining:
    def train(
        self, device_windows: Path | None, out_dir: Path, layers_dir: Path, params: dict
    ) -> Path:
        fake = params.get("fake", {})
        if fake.get("fail"):
            raise RuntimeError("fake training failed on purpose")
        out_dir.mkdir(parents=True, exist_ok=True)
        windows = device_windows.read_text().count("\n") if device_windows else 0
        model_py = f"def score(x):\n    return [{fake.get('score', 0.5)}]\n".encode()
        (out_dir / "model.py").write_bytes(model_py)
        (out_dir / "model.mpy").write_bytes(b"M" * int(fake.get("mpy_bytes", 1000)))
        digest = hashlib.sha256(model_py).hexdigest()[:8]
        manifest = {
            "schema": 1,
            "version": fake.get("version", f"20260101000000-{digest}"),
            "classes": list(fake.get("classes", DEFAULT_CLASSES)),  # the fleet's vocabulary
            "files": {
                name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                for name in ("model.py", "model.mpy")
                for data in [(out_dir / name).read_bytes()]
            },
            "metrics": {"fake_score": fake.get("score", 0.5), "device_windows": windows},
        }
        (out_dir / "manifest.json").write_text(json.dumps(manifest))
        (layers_dir / "08_reporting").mkdir(parents=True, exist_ok=True)
        (layers_dir / "08_reporting" / "metrics.json").write_text(json.dumps(manifest["metrics"]))
        return out_dir

    score_delay_s = 0.0

    def evaluation_streams(self, out_dir: Path, params: dict) -> list[Path]:
        self.score_delay_s = float(params.get("fake", {}).get("score_delay_s", 0.0))
        out_dir.mkdir(parents=True, exist_ok=True)
        stream = out_dir / "stream-0.csv"
        stream.write_text("acc_x,acc_y,acc_z,gyro_x,gyro_y,gyro_z,ms\n")
        return [stream]

    def check(self, training: dict) -> None:
        run_input.check_training(training, ("default", "tiny"), extra_keys=("fake",))

    def mpy_budget(self) -> int:
        return 20_480

    def score(self, model_dir: Path, streams: list[Path]) -> dict:
        time.sleep(self.score_delay_s)
        manifest = json.loads((model_dir / "manifest.json").read_text())
        return {"score": manifest["metrics"]["fake_score"], "streams": len(streams)}
