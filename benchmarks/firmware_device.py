"""Firmware benchmarks under the micropython unix port, side by side with an original-style loop
(SI floats, a list window kept with extend/pop(0), float stats per inference, m2cgen's float
code of the same trees): heap bytes allocated per sample, CPU time per sample and per inference,
peak heap while importing the model (.mpy against .py), RAM per queued event. Two models: the
one the training pipeline selects (default grid, real seed data when present) and the
original-style one (`original` grid: RF, 4 trees of unlimited depth, 20 Hz time points).

    .venv/bin/python -m benchmarks.firmware_device [--selected DIR] [--original DIR] [--write]

`--write` replaces the `## Firmware` section of BENCHMARKS.md. Without a folder the model is
trained (folders given must be `train` outputs with their `<DIR>-layers`).
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

from gesture.spec import MANIFEST_FILE, MODEL_MPY

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
Recording: synthetic, 30 s, looped. Whole chain = sampling plus one inference per kept sample
(every `decimation` capture samples); ours drains the ring every 5 samples as the app loop does
(loop_ms = 50). Time: 4000 samples after 300 warm-up, best of 5, with the GC on in a 512 KB
heap (small, as on a board), so collecting the garbage is part of the cost; per inference: 800
inferences on one full window (the debouncer's run cannot complete there: an event's result,
once per gesture, is counted in the chain).
Original style = SI floats read per sample, a list window kept with extend + pop(0), float
stats computed from the list per inference (when the model uses stats) and m2cgen's float code
of the same trees (thresholds in SI) scoring it. Ours = int16 window, integer features, the
integer-transformed m2cgen code (training/export.py). GC heap bytes = `gc.mem_alloc()` growth
over 200 samples (sampling), 16 (whole chain) or 4 inferences with the collector off (garbage
to collect later); requested = `micropython.mem_total()`, which also counts large call frames
the VM frees again at once (no garbage; under `micropython.heap_lock()` they move to the C
stack, see tests/firmware/mp/mp_sampling.py). Sampling here includes the unix
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


def seed_dir() -> Path:
    from training.seed_data import default_seed_dir

    return default_seed_dir()


def train_models(work: Path) -> dict[str, tuple[Path, object]]:
    """The two models, trained by the training pipeline: the one it selects (default grid, on
    the real seed data when present) and the original-style one (`original` grid: RF, 4 trees,
    20 Hz time points, on synthetic recordings)."""
    from training.pipeline import train
    from training.synthetic import generate_dataset

    generate_dataset(work / "data", seed=0, count=8, duration_s=90)
    original = train(work / "data", work / "original", grid="original")
    data = seed_dir() if (seed_dir() / "20210529_v2_data_all_20hz.csv").exists() else None
    selected = train(data or work / "data", work / "selected", grid="default")
    return {
        "selected": (selected.model_dir, selected.estimator),
        "original": (original.model_dir, original.estimator),
    }


def load_trained(model: Path) -> tuple[Path, object]:
    """A model folder written by `train` and its estimator (kept in the folder's layers)."""
    import pickle

    pkl = model.with_name(model.name + "-layers") / "06_models" / "estimator.pkl"
    if not pkl.exists():
        raise SystemExit(f"{pkl} not found: pass a model folder trained with its layers")
    return model, pickle.loads(pkl.read_bytes())


def float_twin(estimator, manifest: dict) -> str:
    """The original style's model: m2cgen's float code of the same trees (leaf lists, vector
    helpers), thresholds turned into SI so it decides on SI float features as ours does on
    the integer ones (up to the std feature's quantisation)."""
    import ast

    import m2cgen
    from gesture.features import std_shift
    from gesture.units import SI_PER_LSB, SIGNALS

    from training.export import integer_threshold

    signals = [SIGNALS.index(s) for s in manifest["signals"]]
    stats = manifest["features"].get("stats", [])
    n, nsig = manifest["window"], len(signals)
    n_time = nsig * n if manifest["features"].get("time_points", True) else 0

    def si(i: int, threshold: float) -> float:
        t = integer_threshold(threshold) + 0.5  # between the integer decisions
        if i < n_time:
            return t * SI_PER_LSB[signals[i % nsig]]
        j, stat = divmod(i - n_time, len(stats))
        scale = SI_PER_LSB[signals[j]]
        per = {"mean": t / n, "absdiff": t / (n - 1), "min": t, "max": t}
        if stats[stat] == "std":
            return max(t, 0) / n**0.5 * 2 ** std_shift(n) * scale
        return per[stats[stat]] * scale

    class Rescale(ast.NodeTransformer):
        def visit_Compare(self, node):
            i = node.left.slice.value
            node.comparators = [ast.Constant(si(i, ast.literal_eval(node.comparators[0])))]
            return node

    code = m2cgen.export_to_python(estimator, function_name="score")
    return ast.unparse(Rescale().visit(ast.parse(code))) + "\n"


def stage(model: Path, estimator, work: Path) -> tuple[Path, Path]:
    """Model folder as mpy/ and py/ variants plus its float twin, and a 30 s synthetic
    recording as counts."""
    import json

    from gesture import units

    from training.export import compile_mpy
    from training.synthetic import generate_recording

    staged = work / "bench-model"
    for kind in ("mpy", "py", "float"):
        (staged / kind).mkdir(parents=True, exist_ok=True)
    for kind in ("mpy", "py"):
        shutil.copy2(model / f"model.{kind}", staged / kind / f"model.{kind}")
    shutil.copy2(model / MANIFEST_FILE, staged / MANIFEST_FILE)
    manifest = json.loads((model / MANIFEST_FILE).read_text())
    compile_mpy(float_twin(estimator, manifest), staged / "float" / "float_model.mpy")
    samples, _ = generate_recording(7, 30.0)
    counts = work / "counts.csv"
    with counts.open("w") as f:
        f.write("counts\n")
        for row in samples[:, :6].tolist():
            f.write(",".join(map(str, units.si_to_raw(*row))) + "\n")
    return staged, counts


def measure(model: Path, estimator, imports: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="gs-fw-bench-") as tmp:
        work = Path(tmp)
        staged, counts = stage(model, estimator, work)
        results = run_mp(["chain", str(counts), str(staged)], work)
        if imports:
            for kind in ("mpy", "py"):
                results |= run_mp(["import", str(staged), kind], work, heap="4M")
            results |= run_mp(["outbox", "500"], work)
    return results


READING = """Reading: sampling, windowing, features, model and debouncer leave no garbage (the
original style leaves a list and six floats per sample, and a float per feature, leaf list and
probability per inference); only an event's result allocates, once per gesture. The features
are integers in raw counts, kept up to date as samples enter and leave the window, the time
points are read by the model at fixed positions of a preallocated view of the window buffer
(no offset add per split), and the model compares integers and adds integer votes, several
classes packed per local so its call frame stays on the C stack, unpacked into a preallocated
list (tests/firmware/test_fw_trained_model.py runs the whole chain under
micropython.heap_lock()). Per inference repeats one window, so the std feature's square root
starts from its own answer there (a few Newton steps fewer than in the chain, where it starts
from the previous window's). The outbox keeps RAM flat however long the API is down."""

ROWS = [
    ("GC heap bytes per sample, sampling + windowing", "sample_bytes", "{:.1f}"),
    ("GC heap bytes per sample, whole chain", "chain_bytes", "{:.1f}"),
    ("GC heap bytes per inference", "inference_bytes", "{:.0f}"),
    ("bytes requested per sample, sampling (incl. frames)", "sample_requested", "{:.0f}"),
    ("CPU us per sample, sampling + windowing", "sample_us", "{:.1f}"),
    ("CPU us per sample, whole chain", "chain_us", "{:.1f}"),
    ("CPU us per inference", "inference_us", "{:.1f}"),
]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.1f}x" if b else "n/a"


def describe(manifest: dict) -> str:
    est = manifest.get("estimator", {})
    feats = manifest["features"]
    kind = ("time points" if feats.get("time_points", True) else "") + (
        (" + " if feats.get("time_points", True) else "") + "stats" if feats.get("stats") else ""
    )
    return (
        f"{est.get('sklearn', 'model')} {est.get('n_estimators', 1)} trees, "
        f"{manifest['rate_hz']} Hz, window {manifest['window']}, "
        f"{len(manifest['signals'])} signals, {kind}; model.mpy "
        f"{manifest['files'][MODEL_MPY]['bytes']} B"
    )


def table(r: dict[str, float]) -> list[str]:
    lines = [
        "| measure | ours | original style | original / ours |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, key, fmt in ROWS:
        ours, orig = r[f"ours_{key}"], r[f"orig_{key}"]
        lines.append(f"| {label} | {fmt.format(ours)} | {fmt.format(orig)} | {ratio(orig, ours)} |")
    return lines


def grep_fields(r: dict[str, float]) -> dict[str, float]:
    return {
        "inference_bytes": r["ours_inference_bytes"],
        "chain_bytes_per_sample": r["ours_chain_bytes"],
        "inference_us_ratio": r["orig_inference_us"] / r["ours_inference_us"],
        "chain_us_ratio": r["orig_chain_us"] / r["ours_chain_us"],
    }


def report(results: dict[str, dict[str, float]], manifests: dict[str, dict]) -> str:
    sel, org = results["selected"], results["original"]
    lines = [SECTION, "", HEADER.format(command=COMMAND).strip(), ""]
    for name, title in (("selected", "Selected model"), ("original", "Original-style model")):
        lines += [f"{title}: {describe(manifests[name])}.", "", *table(results[name]), ""]
    lines += [
        "Selected model import:",
        "",
        "| model import | peak heap bytes | retained bytes | time us |",
        "| --- | ---: | ---: | ---: |",
    ]
    for kind in ("mpy", "py"):
        peak, kept = sel[f"import_{kind}_peak_bytes"], sel[f"import_{kind}_retained_bytes"]
        lines.append(f"| model.{kind} | {peak:.0f} | {kept:.0f} | {sel[f'import_{kind}_us']:.0f} |")
    # the headline fields hold for both models: the larger bytes, the smaller speed-up
    fields = {
        k: (max if k.endswith("bytes") or "bytes_" in k else min)(
            grep_fields(sel)[k], grep_fields(org)[k]
        )
        for k in grep_fields(sel)
    }
    per_model = " ".join(
        f"{name}_{k}={v:.2f}" if "ratio" in k else f"{name}_{k}={v:.1f}"
        for name in ("selected", "original")
        for k, v in grep_fields(results[name]).items()
    )
    lines += [
        "",
        f"Peak heap importing .py / .mpy: "
        f"{ratio(sel['import_py_peak_bytes'], sel['import_mpy_peak_bytes'])}.",
        f"RAM per queued event, 500 queued (the default capacity): outbox "
        f"{sel['outbox_bytes_per_event']:.1f} B (only the next 40 records are in RAM, as encoded "
        f"JSON; the rest wait on flash), against {sel['dicts_bytes_per_event']:.0f} B for a list "
        f"of dicts ({ratio(sel['dicts_bytes_per_event'], sel['outbox_bytes_per_event'])}).",
        "",
        READING,
        "",
        "grep-able (headline fields: the worse of the two models; then each model's):",
        "",
        f"firmware-bench sample_bytes={sel['ours_sample_bytes']:.1f} "
        f"orig_sample_bytes={sel['orig_sample_bytes']:.1f} "
        f"inference_us_ratio={fields['inference_us_ratio']:.2f} "
        f"sample_us_ratio={sel['orig_sample_us'] / sel['ours_sample_us']:.2f} "
        f"inference_bytes={fields['inference_bytes']:.0f} "
        f"chain_bytes_per_sample={fields['chain_bytes_per_sample']:.1f} "
        f"chain_us_ratio={fields['chain_us_ratio']:.2f} {per_model}",
        "",
    ]
    return "\n".join(lines)


def run(selected: Path | None = None, original: Path | None = None) -> str:
    import json

    with tempfile.TemporaryDirectory(prefix="gs-fw-model-") as tmp:
        models = train_models(Path(tmp)) if not (selected and original) else {}
        if selected:
            models["selected"] = load_trained(selected)
        if original:
            models["original"] = load_trained(original)
        results, manifests = {}, {}
        for name, (folder, estimator) in models.items():
            manifests[name] = json.loads((folder / MANIFEST_FILE).read_text())
            results[name] = measure(folder, estimator, imports=name == "selected")
        return report(results, manifests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--selected", type=Path, help="selected model folder (default: train)")
    parser.add_argument("--original", type=Path, help="original-style folder (default: train)")
    parser.add_argument("--write", action="store_true", help="update BENCHMARKS.md")
    args = parser.parse_args(argv)
    text = run(args.selected, args.original)
    print(text)
    if args.write:
        write_section(SECTION, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
