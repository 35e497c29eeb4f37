"""Firmware benchmarks under the micropython unix port, side by side with an original-style loop
(SI floats, a list window kept with extend/pop(0), the same m2cgen model):
heap bytes allocated per sample, CPU time per sample and per inference, peak heap while importing
the model (.mpy against .py), RAM per queued event.

    .venv/bin/python -m benchmarks.firmware_device [--model DIR] [--write]

`--write` replaces the `## Firmware` section of BENCHMARKS.md. Without --model a model is
trained with the training pipeline's `original` grid (RF, 4 trees, 20 Hz time points) on
synthetic recordings.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.markdown import write_section

REPO = Path(__file__).resolve().parents[1]
MICROPYTHON = Path(sys.executable).parent / "micropython"
SCRIPT = Path(__file__).resolve().parent / "firmware_mpbench.py"
COMMAND = ".venv/bin/python -m benchmarks.firmware_device --write"
SECTION = "## Firmware"
HEADER = """
Command: `{command}`
(micropython unix port v1.28, 64-bit; the ESP32 is 32-bit, so absolute bytes there are smaller
and times larger: compare the ratios, measured side by side in one run).
Model: {model}.
Recording: synthetic, 30 s, looped. Whole chain = sampling plus one inference every 5 samples;
ours drains the ring every 5 samples as the app loop does (loop_ms = 50).
Time: 4000 samples (800 inferences) after 300 warm-up, best of 5, with the GC on in a 512 KB
heap (small, as on a board), so collecting the garbage is part of the cost.
Original style = SI floats read per sample, a list window kept with extend + pop(0), the same
m2cgen model scoring the list. GC heap bytes = `gc.mem_alloc()` growth over 200 samples with
the collector off (garbage to collect later); requested = `micropython.mem_total()`, which also
counts large call frames the VM frees again at once (no garbage; under `micropython.heap_lock()`
they move to the C stack, see tests/firmware/mp/mp_sampling.py). Sampling here includes the unix
fakes (fake clock, timer and I2C written in Python); on the ESP32 timer and I2C are C code.
"""


def run_mp(args: list[str], cwd: Path, heap: str = "512K") -> dict[str, float]:
    env = {
        **os.environ,
        "MICROPYPATH": os.pathsep.join([".frozen", str(REPO / "firmware" / "lib")]),
    }
    result = subprocess.run(
        [str(MICROPYTHON), "-X", f"heapsize={heap}", str(SCRIPT), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stdout + result.stderr)
    found = re.findall(r"^bench (\S+) (\S+)$", result.stdout, flags=re.MULTILINE)
    return {name: float(value) for name, value in found}


def train_model(work: Path) -> Path:
    from training.pipeline import train
    from training.synthetic import generate_dataset

    generate_dataset(work / "data", seed=0, count=8, duration_s=90)
    return train(work / "data", work / "model", grid="original").model_dir


def stage(model: Path, work: Path) -> tuple[Path, Path]:
    """Model folder as mpy/ and py/ variants, and a 60 s synthetic recording as counts."""
    from gesture import units

    from training.synthetic import generate_recording

    staged = work / "bench-model"
    for kind in ("mpy", "py"):
        (staged / kind).mkdir(parents=True, exist_ok=True)
        shutil.copy2(model / f"model.{kind}", staged / kind / f"model.{kind}")
    shutil.copy2(model / "manifest.json", staged / "manifest.json")
    samples, _ = generate_recording(7, 30.0)
    counts = work / "counts.csv"
    with counts.open("w") as f:
        f.write("counts\n")
        for row in samples[:, :6].tolist():
            f.write(",".join(map(str, units.si_to_raw(*row))) + "\n")
    return staged, counts


def measure(model: Path) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="gs-fw-bench-") as tmp:
        work = Path(tmp)
        staged, counts = stage(model, work)
        results = run_mp(["chain", str(counts), str(staged)], work)
        for kind in ("mpy", "py"):
            results |= run_mp(["import", str(staged), kind], work, heap="4M")
        results |= run_mp(["outbox", "500"], work)
    return results


READING = """Reading: sampling and windowing leave no garbage (the original style leaves a list and
six floats per sample), and the outbox keeps RAM flat however long the API is down. Inference
is where the time and garbage go: the shared feature code (gesture.features) converts every
window value from counts to a float on each hop, and every float is a heap object in MicroPython,
while the original style converted each sample once and scored its float list directly. Scoring
time points in raw counts (thresholds divided by the LSB scale at export) would make that step
allocation-free too; that change belongs to the training/feature code."""


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "n/a"


def report(r: dict[str, float], model_desc: str) -> str:
    rows = [
        ("GC heap bytes per sample, sampling + windowing", "sample_bytes", "{:.1f}"),
        ("GC heap bytes per sample, whole chain", "chain_bytes", "{:.1f}"),
        ("GC heap bytes per inference", "inference_bytes", "{:.0f}"),
        ("bytes requested per sample, sampling (incl. frames)", "sample_requested", "{:.0f}"),
        ("CPU us per sample, sampling + windowing", "sample_us", "{:.1f}"),
        ("CPU us per sample, whole chain", "chain_us", "{:.1f}"),
        ("CPU us per inference", "inference_us", "{:.1f}"),
    ]
    lines = [SECTION, "", HEADER.format(command=COMMAND, model=model_desc).strip(), ""]
    lines += [
        "| measure | ours | original style | original / ours |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, key, fmt in rows:
        ours, orig = r[f"ours_{key}"], r[f"orig_{key}"]
        lines.append(f"| {label} | {fmt.format(ours)} | {fmt.format(orig)} | {ratio(orig, ours)} |")
    lines += [
        "",
        "| model import | peak heap bytes | retained bytes | time us |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind in ("mpy", "py"):
        peak, kept = r[f"import_{kind}_peak_bytes"], r[f"import_{kind}_retained_bytes"]
        lines.append(f"| model.{kind} | {peak:.0f} | {kept:.0f} | {r[f'import_{kind}_us']:.0f} |")
    lines += [
        "",
        f"Peak heap importing .py / .mpy: "
        f"{ratio(r['import_py_peak_bytes'], r['import_mpy_peak_bytes'])}.",
        f"RAM per queued event, 500 queued (the default capacity): outbox "
        f"{r['outbox_bytes_per_event']:.1f} B (only the next 40 records are in RAM, as encoded "
        f"JSON; the rest wait on flash), against {r['dicts_bytes_per_event']:.0f} B for a list "
        f"of dicts ({ratio(r['dicts_bytes_per_event'], r['outbox_bytes_per_event'])}).",
        "",
        READING,
        "",
        f"grep-able: firmware-bench sample_bytes={r['ours_sample_bytes']:.1f} "
        f"orig_sample_bytes={r['orig_sample_bytes']:.1f} "
        f"inference_us_ratio={r['orig_inference_us'] / r['ours_inference_us']:.2f} "
        f"sample_us_ratio={r['orig_sample_us'] / r['ours_sample_us']:.2f}",
        "",
    ]
    return "\n".join(lines)


def run(model: Path | None = None) -> str:
    with tempfile.TemporaryDirectory(prefix="gs-fw-model-") as tmp:
        model = model or train_model(Path(tmp))
        import json

        manifest = json.loads((model / "manifest.json").read_text())
        est = manifest.get("estimator", {})
        desc = (
            f"{est.get('sklearn', est.get('estimator', 'model'))} "
            f"({manifest['rate_hz']} Hz, window {manifest['window']}, "
            f"{len(manifest['signals'])} signals, model.mpy "
            f"{manifest['files']['model.mpy']['bytes']} B)"
        )
        return report(measure(model), desc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="model folder (default: train one)")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    text = run(args.model)
    print(text)
    if args.write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
