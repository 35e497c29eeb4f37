"""A public gesture dataset from another device, through `gesture-stack train --data DIR`.

The Gyronics dataset (GRWD, github.com/GyronicsTechnologies/GRWD; Gambo et al., "An End to End
Wearable Device and System for Indefinite, Continuous, Real Time Gesture Recognition of
Directional and Shape-Based Arm Gestures", IEEE Access 13, 2025): a forearm-worn IMU, 10 arm
gestures, 50 people, about 10 clips each. Its `Gyronics Gestureset/<gesture>/subject_<n>/<k>.csv`
rows are raw int16 counts (Ax..Gz, +-2 g and +-250 deg/s: 16384 LSB/g, 131 LSB/(deg/s)) sampled
at 100 Hz; the Timestamp column is when the host received a row (serial bursts), so rows are
placed on the dataset's stated 100 Hz; rows the serial link merged or cut (a value outside
int16, a wrong field count) are dropped. No data is kept here: clone the dataset anywhere and
point --source at it.

    .venv/bin/python -m benchmarks.public_clips --source GRWD --subjects 10 [--write]

converts the first N subjects to a clip folder (one folder per gesture, no idle folder), trains
on it (whole clips held out) and prints the held-out per-class event F1 next to the paper's
figure; --write puts the result in BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
import tempfile
import time
from pathlib import Path

from gesture import units
from gesture.spec import MODEL_MPY

from benchmarks.markdown import write_section

SECTION = "## Public dataset (clip folder)"
SET = "Gyronics Gestureset"
RAW_COLUMNS = 11  # Ax,Ay,Az,Gx,Gy,Gz,Roll,Pitch,Yaw,Timestamp,Target
PUBLISHED = (
    "94.81 % (XGBoost) and 96.28 % (CNN) accuracy on segmented clips of their own dataset; "
    "92.33 % recognition in real-time continuous use"
)


def clip_rows(path: Path) -> list[list[float]]:
    """SI rows (acc m/s^2, gyro deg/s, ms on the 100 Hz grid) of one dataset CSV."""
    scale = [units.ACC_SI_PER_LSB] * 3 + [units.GYRO_SI_PER_LSB] * 3
    out = []
    with path.open(newline="") as f:
        reader = csv.reader(f)
        next(reader, None)
        for row in reader:
            if len(row) != RAW_COLUMNS or not all(re.fullmatch(r"-?\d+", v) for v in row[:6]):
                continue
            counts = [int(v) for v in row[:6]]
            if all(units.INT16_MIN <= c <= units.INT16_MAX for c in counts) and any(counts):
                out.append([c * s for c, s in zip(counts, scale, strict=True)])
    return [[*r, 10.0 * i] for i, r in enumerate(out)]


def convert(source: Path, out: Path, subjects: int) -> dict[str, int]:
    """Write the first `subjects` people's clips as out/<gesture>/subject_<n>-<k>.csv."""
    counts: dict[str, int] = {}
    for gesture_dir in sorted((Path(source) / SET).iterdir()):
        gesture = gesture_dir.name.lower()
        for n in range(subjects):
            for path in sorted((gesture_dir / f"subject_{n}").glob("*.csv")):
                rows = clip_rows(path)
                if len(rows) < 50:
                    continue
                target = out / gesture / f"subject_{n}-{path.stem}.csv"
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("w", newline="") as f:
                    w = csv.writer(f)
                    w.writerow([*units.SIGNALS, "ms"])
                    w.writerows([[f"{v:.5f}" for v in r[:6]] + [f"{r[6]:.0f}"] for r in rows])
                counts[gesture] = counts.get(gesture, 0) + 1
    return counts


def main(argv: list[str] | None = None) -> int:
    from training.params import load_params
    from training.pipeline import train

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, required=True, help="a clone of the dataset")
    parser.add_argument("--subjects", type=int, default=10, help="first N people")
    parser.add_argument("--grid", default="default")
    parser.add_argument("--work", type=Path, default=None, help="folder for clips and model")
    parser.add_argument("--write", action="store_true", help="write BENCHMARKS.md")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="public-clips-"))
    clips = convert(args.source, work / "clips", args.subjects)
    print(f"converted {sum(clips.values())} clips: {clips}", flush=True)
    started = time.perf_counter()
    result = train(work / "clips", work / "model", args.grid, load_params(), work / "layers", print)
    seconds = time.perf_counter() - started
    m = result.manifest.metrics["test"]
    rows = [
        f"| {c} | {v['f1']:.3f} | {v['tp']} | {v['fp']} | {v['fn']} |"
        for c, v in m["per_class"].items()
    ]
    print(
        f"public-clips-result dataset=GRWD subjects={args.subjects} clips={sum(clips.values())} "
        f"f1={m['f1']} precision={m['precision']} recall={m['recall']} "
        f"mpy_bytes={result.manifest.files[MODEL_MPY].bytes} train_s={seconds:.0f}"
    )
    if args.write:
        given = argv if argv is not None else sys.argv[1:]
        if "--work" in given:  # a local folder: not part of the command to repeat
            at = given.index("--work")
            given = given[:at] + given[at + 2 :]
        command = f".venv/bin/python -m benchmarks.public_clips {' '.join(given)}"
        command = command.replace(str(args.source), "GRWD")
        body = [
            SECTION,
            "",
            f"Command: `{command}`",
            "",
            f"Gyronics dataset (GRWD), first {args.subjects} of 50 people, "
            f"{sum(clips.values())} clips of 10 arm gestures recorded on a forearm-worn IMU, "
            "converted to a clip folder (no idle folder: negatives made, see the report). "
            "Held-out whole clips laid on continuous streams with rest and handling between "
            f"them; event-level scoring (tolerance {result.manifest.metrics['tolerance_ms']} ms).",
            "",
            f"- ours: event F1 **{m['f1']:.3f}** (precision {m['precision']:.3f}, recall "
            f"{m['recall']:.3f}, {m['tp']} found / {m['fn']} missed / {m['fp']} false), "
            f"{result.manifest.files[MODEL_MPY].bytes} B .mpy, trained in {seconds:.0f} s",
            f"- published (Gambo et al. 2025): {PUBLISHED}. Their figure is clip accuracy with "
            "the clip boundaries given; ours must also find the gesture in a continuous stream "
            "(a miss or a false event counts), with a tree model small enough for the ESP32.",
            "",
            "| gesture | event F1 | found | false | missed |",
            "| --- | --- | --- | --- | --- |",
            *rows,
        ]
        write_section(SECTION, "\n".join(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
