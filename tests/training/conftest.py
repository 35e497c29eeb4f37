"""Fixtures for the training area: the micropython runner and the seed data location."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRMWARE_LIB = REPO / "firmware" / "lib"
MICROPYTHON = Path(sys.executable).parent / "micropython"


def seed_data_dir() -> Path:
    from training.seed_data import default_seed_dir

    return default_seed_dir()


@pytest.fixture
def run_micropython(tmp_path):
    """Run a script under the micropython unix port with firmware/lib (and extra dirs) on path."""

    def run(script: str, *paths: Path) -> str:
        lines = ["import sys"] + [f"sys.path.insert(0, {str(p)!r})" for p in (FIRMWARE_LIB, *paths)]
        file = tmp_path / "mp_script.py"
        file.write_text("\n".join(lines) + "\n" + script)
        done = subprocess.run(
            [str(MICROPYTHON), "-X", "heapsize=4M", str(file)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise AssertionError(f"micropython failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    return run


@pytest.fixture(scope="module")
def seed_data() -> Path:
    folder = seed_data_dir()
    if not (folder / "20210529_v2_data_all_20hz.csv").exists():
        message = f"seed data not found in {folder}; set GESTURE_SEED_DATA"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI always has ../shared beside the clone
        pytest.skip(message)
    return folder


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A model folder trained by the quick `tiny` path on synthetic recordings."""
    from training.quick import train_tiny

    out = tmp_path_factory.mktemp("tiny") / "model"
    return train_tiny(out, seed=1)
