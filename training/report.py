"""The model report: timelines of held-out streams, event confusion matrix, size and speed.

report.html sits in the model folder next to its PNGs. Each timeline shows the signals, the true
events (shaded), the per-window class probabilities and the final debounced events (markers).
"""

from __future__ import annotations

import html
import json
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import gesture.features
import matplotlib.pyplot as plt
import numpy as np
from gesture.spec import MANIFEST_FILE, MODEL_MPY, MODEL_SOURCE, VECTORS_FILE

from training.calibration import ScoredStream
from training.evaluation import EventScore, debounce
from training.recordings import STEP_MS

IDLE_COLOR = "#999999"
PALETTE = plt.get_cmap("tab10").colors  # gesture k of the manifest's classes gets colour k


def colors(classes: list[str]) -> dict[str, tuple]:
    """A colour per class, from the manifest's own class list (idle grey)."""
    gestures = [c for c in classes if c != "idle"]
    return {"idle": IDLE_COLOR} | {g: PALETTE[k % len(PALETTE)] for k, g in enumerate(gestures)}


MICROPYTHON = Path(sys.executable).parent / "micropython"
FIRMWARE_LIB = Path(gesture.features.__file__).resolve().parents[1]  # the device package's folder
TIMING_SCRIPT = """
import json, time, model
from gesture.detector import Detector
det = Detector(json.load(open({manifest!r})), model.score)
feats, w, o = det.features, det.window, det.scores
total = 0
vectors = [v['features'] for v in json.load(open({vectors!r}))['vectors']]
for v in vectors:
    feats.load_vector(v)
    t0 = time.ticks_us()
    model.score(w.views[w.oldest], 0, feats.vector, o)
    total += time.ticks_diff(time.ticks_us(), t0)
print(total / len(vectors))
"""


def plot_timeline(scored: ScoredStream, classes: list[str], postprocess: dict, path: Path) -> Path:
    """Signals, true events, window probabilities and final events of one stream."""
    s = scored.stream
    color = colors(classes)
    t = np.arange(len(s.samples)) * STEP_MS / 1000
    fig, axes = plt.subplots(3, 1, figsize=(14, 7), sharex=True)
    for k, name in enumerate(("acc_x", "acc_y", "acc_z")):
        axes[0].plot(t, s.samples[:, k], lw=0.7, label=name)
    for k, name in enumerate(("gyro_x", "gyro_y", "gyro_z")):
        axes[1].plot(t, s.samples[:, 3 + k], lw=0.7, label=name)
    axes[0].set_ylabel("m/s²")
    axes[1].set_ylabel("deg/s")
    tw = scored.ends * STEP_MS / 1000
    for c, name in enumerate(classes):
        if name != "idle":
            p = scored.scores[:, c] / scored.scale
            axes[2].plot(tw, p, lw=0.8, color=color[name], label=name)
    axes[2].axhline(postprocess["threshold"], ls="--", color="k", lw=0.6)
    axes[2].set_ylabel("window P")
    axes[2].set_ylim(0, 1.05)
    for ax in axes:
        for e in s.events:
            ax.axvspan(
                e.start_ms / 1000,
                e.end_ms / 1000,
                color=color.get(e.gesture, IDLE_COLOR),
                alpha=0.15,
            )
        for lo, hi in s.ignore:
            ax.axvspan(lo / 1000, hi / 1000, color="k", alpha=0.05)
    for d in debounce(classes, postprocess, scored.ends, scored.scores, scored.scale):
        axes[2].axvline(d.t_ms / 1000, color=color[d.gesture], lw=1.5)
        axes[2].text(d.t_ms / 1000, 1.0, d.gesture, color=color[d.gesture], fontsize=8)
    axes[0].legend(loc="upper right", fontsize=7)
    axes[1].legend(loc="upper right", fontsize=7)
    axes[2].legend(loc="upper left", fontsize=7)
    axes[2].set_xlabel("s")
    axes[0].set_title(f"{s.name}: shaded = true events, lines = detected events")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def plot_confusion(score: EventScore, classes: list[str], path: Path) -> Path:
    """Event confusion: true class (rows, idle = no event) vs detected (columns, - = none)."""
    gestures = [c for c in classes if c != "idle"]
    rows, cols = [*gestures, "idle"], [*gestures, "-"]
    m = np.zeros((len(rows), len(cols)), dtype=int)
    for key, n in score.confusion.items():
        true, got = key.split("->")
        if true in rows and got in cols:
            m[rows.index(true), cols.index(got)] += n
    side = 2.5 + 0.5 * len(cols)
    fig, ax = plt.subplots(figsize=(side + 0.5, side))
    ax.imshow(m, cmap="Blues")
    for i in range(len(rows)):
        for j in range(len(cols)):
            ax.text(j, i, str(m[i, j]), ha="center", va="center")
    ax.set_xticks(range(len(cols)), cols)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("detected")
    ax.set_ylabel("true")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def micropython_us_per_window(model_dir: Path) -> float | None:
    """Mean model.score() time per window under the micropython binary (None if unavailable)."""
    script = TIMING_SCRIPT.format(
        vectors=str(Path(model_dir) / VECTORS_FILE),
        manifest=str(Path(model_dir) / MANIFEST_FILE),
    )
    paths = f"import sys\nsys.path.insert(0, {str(FIRMWARE_LIB)!r})\n"
    paths += f"sys.path.insert(0, {str(model_dir)!r})\n"
    done = subprocess.run(
        [str(MICROPYTHON), "-c", paths + script],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return float(done.stdout.strip()) if done.returncode == 0 else None


CANDIDATE_LABELS = {"mpy_bytes": "mpy_bytes before refit"}


def write_report(
    model_dir: Path, manifest, test_scored: list[ScoredStream], test, rows, notes=()
) -> Path:
    """report.html (+ PNGs) in the model folder; `notes` are sentences about the data."""
    model_dir = Path(model_dir)
    classes, pp = manifest.classes, manifest.postprocess.model_dump()
    full = list(classes)
    images = []
    for i, scored in enumerate(test_scored[:4]):
        images.append(plot_timeline(scored, full, pp, model_dir / f"timeline-{i}.png").name)
    plot_confusion(test, full, model_dir / "confusion.png")
    us = micropython_us_per_window(model_dir)
    m = manifest.metrics["test"]
    size_rows = [
        (f"{MODEL_MPY} bytes", manifest.files[MODEL_MPY].bytes),
        (f"{MODEL_SOURCE} bytes", manifest.files[MODEL_SOURCE].bytes),
        ("inference per window (micropython, unix port)", f"{us:.1f} µs" if us else "n/a"),
        (
            "rate / window / signals",
            f"{manifest.rate_hz} Hz / {manifest.window} / {', '.join(manifest.signals)}",
        ),
        ("features", json.dumps(manifest.features)),
        ("estimator", html.escape(json.dumps(manifest.estimator))),
        ("debouncer", json.dumps(pp)),
    ]
    best_rows = sorted(rows, key=lambda r: -(r["f1"] or 0))[:12]
    parts = [
        f"<html><head><meta charset='utf-8'><title>model {manifest.version}</title></head><body>",
        f"<h1>Gesture model {manifest.version}</h1>",
        f"<p>Held-out test streams: event F1 <b>{m['f1']}</b>, precision {m['precision']}, "
        f"recall {m['recall']}, false events per idle minute {m['false_per_idle_minute']} "
        f"({m['tp']} found, {m['fn']} missed, {m['fp']} false; tolerance "
        f"{manifest.metrics['tolerance_ms']} ms). Classes: {', '.join(classes)}. "
        f"These numbers are for the fit that never saw the test groups; the exported model is "
        f"{manifest.metrics.get('exported_fit', 'the evaluated fit')}.</p>",
        *(f"<p>{html.escape(n)}</p>" for n in notes),
        "<h2>Per-class event F1 (test)</h2><table border=1>"
        "<tr><th>gesture</th><th>F1</th><th>found</th><th>false</th><th>missed</th></tr>",
        *(
            f"<tr><td>{html.escape(c)}</td><td>{v['f1']}</td><td>{v['tp']}</td>"
            f"<td>{v['fp']}</td><td>{v['fn']}</td></tr>"
            for c, v in m.get("per_class", {}).items()
        ),
        "</table>",
        "<h2>Size and speed</h2><table border=1>",
        *(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in size_rows),
        "</table><h2>Event confusion (test)</h2><img src='confusion.png'>",
        "<h2>Test timelines</h2>",
        *(f"<p><img src='{name}' width='100%'></p>" for name in images),
        "<h2>Candidates (out-of-fold event F1)</h2>",
        f"<p>Sizes are of each candidate fitted on the development data, before the refit; the "
        f"exported model is {manifest.files[MODEL_MPY].bytes} B.</p><table border=1><tr>",
        *(f"<th>{CANDIDATE_LABELS.get(k, k)}</th>" for k in best_rows[0]),
        "</tr>",
        *("<tr>" + "".join(f"<td>{v}</td>" for v in r.values()) + "</tr>" for r in best_rows),
        "</table></body></html>",
    ]
    path = model_dir / "report.html"
    path.write_text("\n".join(parts))
    return path
