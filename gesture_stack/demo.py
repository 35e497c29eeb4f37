"""`gesture-stack demo`: the whole system, locally, on embedded defaults.

1. data      synthetic 100 Hz recordings with ground truth (training/synthetic.py)
2. train     the training pipeline writes a model folder (manifest, .py, .mpy, report)
3. detect    the device's detection chain under CPython on a recording it never saw
4. device    the firmware under the real `micropython` binary replays that recording against
             the local API (API Gateway semantics over the real handlers, moto AWS); the demo
             then reads the stored events back through GET /events
5. pipeline  the Step Functions machines (main -> collect, retrain) run locally; the retrain
             job promotes a model only if it beats the current one
6. page      build/demo/index.html: what ran, the numbers, links to the model report

Each step says what it did; the page is the place to look afterwards.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_OUT = Path("build") / "demo"
DEMO_DEVICE = "demo-device-1"
TRAIN_SEED = 100
DEMO_SEED = 7777  # the recording the device replays: never seen by training


@dataclass
class DemoRun:
    out: Path
    grid: str
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # step, status, summary

    def step(self, name: str, summary: str, status: str = "ok") -> None:
        self.rows.append((name, status, summary))
        print(f"demo-step {name} {status}: {summary}", flush=True)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole system locally (what `make demo` runs)", description=__doc__
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--grid", default="tiny", help="training grid (training/params.yml)")
    parser.set_defaults(func=run)


def banner(text: str) -> None:
    print(f"\n== {text} ==", flush=True)


def make_data(demo: DemoRun) -> tuple[Path, Path]:
    from training.recordings import write_recording
    from training.synthetic import generate_dataset, generate_recording

    banner("1/7 synthetic data")
    train_dir = demo.out / "data" / "train"
    paths = generate_dataset(train_dir, seed=TRAIN_SEED, count=6, duration_s=60)
    samples, events = generate_recording(DEMO_SEED, 90)
    recording = write_recording(demo.out / "data" / "demo-recording.csv", samples, events)
    demo.step(
        "data",
        f"{len(paths)} training recordings in {train_dir}; demo recording {recording.name} "
        f"({len(samples) / 100:.0f} s, {len(events)} true gestures)",
    )
    return train_dir, recording


def train_model(demo: DemoRun, train_dir: Path) -> Path:
    from training.pipeline import train

    banner("2/7 train")
    model = demo.out / "model"
    result = train(train_dir, model, demo.grid, layers=demo.out / "layers", progress=print)
    test = result.manifest.metrics["test"]
    demo.step(
        "train",
        f"model {result.manifest.version}: held-out event F1 {test['f1']:.3f}, "
        f"{result.manifest.files['model.mpy'].bytes} B .mpy, report {model / 'report.html'}",
    )
    return model


def detect_on_host(demo: DemoRun, model: Path, recording: Path) -> list[dict]:
    from training.detect import detect_samples
    from training.evaluation import Detection, score_events
    from training.recordings import labels_path_for, read_labels, read_recording

    banner("3/7 detect (CPython, the device's chain)")
    samples = read_recording(recording)
    events = detect_samples(model, samples)
    for event in events:
        print(json.dumps(event))
    truth = read_labels(labels_path_for(recording))
    detections = [Detection(e["t_ms"], e["gesture"], e["score"]) for e in events]
    tolerance = json.loads((model / "manifest.json").read_text())["metrics"]["tolerance_ms"]
    score = score_events(truth, detections, tolerance, int(samples[-1, 6]) + 10)
    demo.step(
        "detect",
        f"{len(events)} events on the unseen recording; vs ground truth: precision "
        f"{score.precision:.2f}, recall {score.recall:.2f}, F1 {score.f1:.2f}",
    )
    return events


def run_device(demo: DemoRun, api, key: str, recording: Path, *options: str) -> int:
    """`gesture-stack device`: the firmware under micropython, its flash kept in the demo folder."""
    from gesture_stack.cli import main as cli

    common = ["--api", api.url, "--key", key, "--recording", str(recording)]
    return cli(["device", *common, "--state", str(demo.out / "device"), *options])


def device_against_api(demo: DemoRun, api, key: str, model: Path, recording: Path, expected):

    banner("4/7 device (firmware under micropython) -> local API -> DynamoDB, S3 (moto)")
    version = api.publish_model(model)
    print(f"local API at {api.url}; model {version} published; device key issued")
    code = run_device(demo, api, key, recording, "--drain-s", "20", "--capture")
    stored = query_events(api.url, key, DEMO_DEVICE)
    same = sorted(e["gesture"] for e in stored) == sorted(e["gesture"] for e in expected)
    demo.step(
        "device",
        f"firmware exit {code}; {len(stored)} events stored exactly once "
        f"({'same gestures as' if same else 'DIFFERENT from'} the host detection)",
        _ok(code == 0 and same),
    )
    return stored


def query_events(url: str, key: str, device_id: str) -> list[dict]:
    """GET /events for one device, following the cursor through every page."""
    items, cursor = [], None
    while True:
        query = f"device_id={device_id}&limit=100" + (f"&cursor={cursor}" if cursor else "")
        request = urllib.request.Request(f"{url}/events?{query}", headers={"x-api-key": key})
        with urllib.request.urlopen(request, timeout=30) as response:
            page = json.loads(response.read())
        items += page["items"]
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def run_pipeline(demo: DemoRun) -> dict:
    from localcloud.stepfunctions import LocalPipeline

    banner("5/7 pipeline (Step Functions main -> collect, retrain; CodeBuild jobs locally)")
    payload = {
        "run_data_collect": True,
        "run_data_process": True,
        "training": {"grid": demo.grid, "recordings": 4, "duration_s": 60},
    }
    # Inside the local API's moto: collect exports what the device just sent.
    with LocalPipeline() as pipeline:
        result = pipeline.run(payload)
    output = result.output or {}
    collected = output.get("collect", {}).get("output", {}).get("result", {})
    retrained = output.get("retrain", {}).get("output", {}).get("result", {})
    demo.step(
        "pipeline",
        f"main {result.status}; collect exported {collected.get('events', '?')} events and "
        f"{collected.get('windows', '?')} windows; "
        f"retrain: {retrained.get('reason', result.error)}",
        _ok(result.status == "SUCCEEDED"),
    )
    return retrained


def device_update(demo: DemoRun, api, key: str, recording: Path, retrained: dict) -> None:

    banner("6/7 over-the-air update (the device fetches GET /model at boot)")
    code = run_device(demo, api, key, recording, "--drain-s", "5")
    running = json.loads((demo.out / "device" / "model" / "manifest.json").read_text())
    current = retrained.get("current_version")
    demo.step(
        "ota",
        f"device now runs model {running['version']} (current in the cloud: {current})",
        _ok(code == 0 and running["version"] == current),
    )


def _ok(flag: bool) -> str:
    return "ok" if flag else "FAILED"


def write_page(demo: DemoRun) -> Path:
    banner("7/7 page")
    rows = "\n".join(
        f"<tr><td>{html.escape(n)}</td><td class={s.lower()}>{html.escape(s)}</td>"
        f"<td>{html.escape(t)}</td></tr>"
        for n, s, t in demo.rows
    )
    page = demo.out / "index.html"
    page.write_text(
        "<!doctype html><meta charset=utf-8><title>gesture-stack demo</title>"
        "<style>body{font:15px system-ui;margin:2em}td{padding:.3em .8em;border-bottom:1px solid"
        " #ddd}.ok{color:#080}.failed{color:#c00}</style>"
        "<h1>gesture-stack demo</h1><table><tr><th>step<th>status<th>what happened</tr>"
        f"{rows}</table><p><a href=model/report.html>model report</a> (timelines, confusion "
        "matrix, size and inference time)</p>"
    )
    demo.step("page", f"open {page}")
    return page


def run(args: argparse.Namespace) -> int:
    from localcloud.server import LocalCloud

    started = time.perf_counter()
    demo = DemoRun(out=args.out, grid=args.grid)
    demo.out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(demo.out / "device", ignore_errors=True)  # a new device: empty flash
    train_dir, recording = make_data(demo)
    model = train_model(demo, train_dir)
    expected = detect_on_host(demo, model, recording)
    with LocalCloud(port=0) as api:
        key = api.add_device(DEMO_DEVICE)
        device_against_api(demo, api, key, model, recording, expected)
        retrained = run_pipeline(demo)
        device_update(demo, api, key, recording, retrained)
    write_page(demo)
    failed = [name for name, status, _ in demo.rows if status != "ok"]
    print(f"\ndemo-result steps={len(demo.rows)} failed={len(failed)} ", end="")
    print(f"seconds={time.perf_counter() - started:.0f} page={demo.out / 'index.html'}")
    return 1 if failed else 0


if __name__ == "__main__":
    from gesture_stack.cli import main

    sys.exit(main(["demo", *sys.argv[1:]]))
