"""Helpers for the firmware tests: run the firmware under the real `micropython` unix binary."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"
MP_TESTS = Path(__file__).resolve().parent / "mp"
MICROPYTHON = Path(sys.executable).parent / "micropython"


def micropython_env(*extra_paths: Path) -> dict:
    """Environment whose MICROPYPATH finds the firmware package (and any extra folders)."""
    paths = [str(p) for p in (*extra_paths, FIRMWARE / "lib", FIRMWARE)]
    return {**os.environ, "MICROPYPATH": os.pathsep.join(paths)}


def run_micropython(args: list[str], *, cwd: Path, timeout: float = 60, extra_paths=()):
    """Run the micropython binary; returns the CompletedProcess (text)."""
    if not MICROPYTHON.exists():
        pytest.fail(f"micropython binary missing at {MICROPYTHON}: run `make install`")
    return subprocess.run(
        [str(MICROPYTHON), *args],
        cwd=cwd,
        env=micropython_env(MP_TESTS, *extra_paths),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def mp_test_names(module: str) -> list[str]:
    """Names of the test_ functions in a MicroPython test module under tests/firmware/mp/."""
    source = (MP_TESTS / f"{module}.py").read_text()
    return re.findall(r"^def (test_\w+)\(", source, flags=re.MULTILINE)


def run_mp_test(module: str, name: str, cwd: Path) -> None:
    """Run one test function of a MicroPython test module; fail with its output if it fails."""
    result = run_micropython([str(MP_TESTS / "mprunner.py"), module, name], cwd=cwd)
    assert result.returncode == 0 and f"PASS {name}" in result.stdout, result.stdout + result.stderr
