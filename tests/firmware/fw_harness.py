"""Helpers for the firmware tests: run the firmware under the real `micropython` unix binary."""

from __future__ import annotations

import os
import re
import socket
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
    # ".frozen" keeps the port's frozen modules (ssl, ...) importable, as on a board
    paths = [".frozen", *(str(p) for p in (*extra_paths, FIRMWARE / "lib", FIRMWARE))]
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


def _std_units(si: float, si_per_count: float, window: int = 21) -> int:
    """A standard deviation in SI as the device's integer std feature (gesture.features:
    isqrt(ceil(n x variance)) of counts >> std_shift(n))."""
    from gesture.features import std_shift

    return int(window**0.5 * si / si_per_count / 2 ** std_shift(window))


def _rules_model() -> str:
    from gesture.units import ACC_SI_PER_LSB, GYRO_SI_PER_LSB

    gyro_60 = _std_units(60.0, GYRO_SI_PER_LSB)
    acc_5, acc_2_5 = _std_units(5.0, ACC_SI_PER_LSB), _std_units(2.5, ACC_SI_PER_LSB)
    return f"""def score(w, b, f, o):
    if f[16] > {gyro_60}:
        o[0], o[1], o[2], o[3] = 5, 5, 5, 85
    elif f[1] > {acc_5}:
        o[0], o[1], o[2], o[3] = 10, 80, 5, 5
    elif f[6] > {acc_5}:
        o[0], o[1], o[2], o[3] = 10, 5, 80, 5
    elif f[1] > {acc_2_5}:
        o[0], o[1], o[2], o[3] = 50, 45, 3, 2
    else:
        o[0], o[1], o[2], o[3] = 90, 4, 3, 3
    return o
"""


# A stand-in for an m2cgen export after the integer transform (same `score(w, b, f, o)` shape,
# plain if/else, 100 votes per window), so the firmware chain can be tested without training.
# Stats order: per signal mean, std, min, max, absdiff (see gesture.features); index 1 = acc_x
# std, 6 = acc_y std, 16 = gyro_x std, compared at 60 deg/s, 5 and 2.5 m/s^2.
RULES_MODEL = _rules_model()


def rules_manifest(model_py: bytes, version: str = "20260101000000-0000a000") -> dict:
    import hashlib

    return {
        "schema": 2,
        "version": version,
        "created": "2026-01-01T00:00:00Z",
        "capture_hz": 100,
        "rate_hz": 20,
        "decimation": 5,
        "window": 21,
        "hop": 1,
        "signals": ["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"],
        "features": {"time_points": False, "stats": ["mean", "std", "min", "max", "absdiff"]},
        "classes": ["idle", "x", "y", "circle"],
        "score_scale": 100,
        "postprocess": {
            "threshold": 0.6,
            "threshold_votes": 60,
            "min_hits": 3,
            "max_gap": 1,
            "refractory": 10,
            "time_offset": 0,
        },
        "files": {
            "model.py": {"sha256": hashlib.sha256(model_py).hexdigest(), "bytes": len(model_py)}
        },
        "metrics": {},
        "estimator": {"kind": "hand-written rules for firmware tests"},
    }


def compile_mpy(src: Path, dst: Path) -> None:
    """mpy-cross src -> dst."""
    result = subprocess.run(
        [str(MICROPYTHON.parent / "mpy-cross"), "-o", str(dst), str(src)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def write_rules_model(folder: Path, *, version: str | None = None) -> Path:
    """A complete model folder (manifest.json, model.py, model.mpy) with the rules model."""
    import hashlib
    import json

    folder.mkdir(parents=True, exist_ok=True)
    source = RULES_MODEL.encode()
    (folder / "model.py").write_bytes(source)
    manifest = rules_manifest(source, **({"version": version} if version else {}))
    compile_mpy(folder / "model.py", folder / "model.mpy")
    data = (folder / "model.mpy").read_bytes()
    manifest["files"]["model.mpy"] = {
        "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data),
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return folder


def write_synthetic_recording(path: Path, seed: int = 1, duration_s: float = 20.0) -> Path:
    """A synthetic 100 Hz recording (SI CSV) from the training generator."""
    from training.recordings import write_recording
    from training.synthetic import generate_recording

    samples, events = generate_recording(seed, duration_s)
    return write_recording(path, samples, events)


def run_firmware(config: dict, cwd: Path, timeout: float = 60):
    """Write config.json in cwd and run firmware/main.py on it under micropython."""
    import json

    (cwd / "config.json").write_text(json.dumps(config))
    return run_micropython([str(FIRMWARE / "main.py"), "config.json"], cwd=cwd, timeout=timeout)


QUEUED = re.compile(r"gs-queued seq=(\d+) id=(\S+) gesture=(\w+) (t_ms|boot_ms)=(\d+)")


def device_config(tmp_path, url, recording, **overrides):
    return {
        "mode": "device",
        "api_url": url,
        "api_key": "key-1",
        "recording": str(recording),
        "model_dir": str(write_rules_model(tmp_path / "model")),
        "data_dir": str(tmp_path / "data"),
        "allow_http": True,  # the test APIs listen on plain http on 127.0.0.1
        "batch_size": 2,
        "backoff_ms": [50, 400],
        "http_timeout_s": 5,  # generous: a slow CI machine must not look like an outage
        "telemetry_period_s": 5,
        "ota_period_s": 3600,
        "drain_s": 20,
        **overrides,
    }


def queued(stdout):
    """(seq, gesture, t_ms) of each event the device queued (t_ms None if boot-relative)."""
    return [
        (int(s), g, int(t) if k == "t_ms" else None) for s, _, g, k, t in QUEUED.findall(stdout)
    ]


def queued_events(stdout):
    """Each queued event as a dict: seq, id, gesture and t_ms or boot_ms."""
    return [
        {"seq": int(s), "id": i, "gesture": g, k: int(t)}
        for s, i, g, k, t in QUEUED.findall(stdout)
    ]


def stored(api):
    """(seq, gesture, t_ms) of every event the fake API stored, duplicates included."""
    return [(e["seq"], e["gesture"], e.get("t_ms")) for e in api.events]


def tally(queued_ids, stored_ids):
    """Scenario numbers: queued, stored (distinct), lost (queued, never stored), duplicated
    (stored more than once, counted once per extra copy)."""
    queued_ids, stored_ids = list(queued_ids), list(stored_ids)
    distinct = set(stored_ids)
    return {
        "queued": len(queued_ids),
        "stored": len(distinct & set(queued_ids)),
        "lost": len(set(queued_ids) - distinct),
        "duplicated": len(stored_ids) - len(distinct),
    }


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
