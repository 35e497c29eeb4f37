"""`gesture-stack demo`: the whole system, locally, on embedded defaults; a device learns a
gesture no model knew. Its steps (STEPS below) are listed by `gesture-stack demo --help` and,
from the same text, by the README's "What `make demo` shows" (tests/docs checks both)."""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import shutil
import sys
import textwrap
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from gesture import spec

DEFAULT_OUT = Path("build") / "demo"
DEMO_DEVICE = "demo-device-1"
TRAIN_SEED = 100
DEMO_SEED = 7777  # the recording the device replays: never seen by training
NEW_GESTURE = "shake"  # what the device learns: the synthetic generator knows its shape
CAPTURE_SEED = 4242  # the session in which the device records examples of it
FRESH_SEED = 8888  # the recording after the update: old gestures and the new one


@dataclass(frozen=True)
class Step:
    name: str  # the `demo-step NAME` line it prints, and the list's bold word
    text: str  # what it does: the help's and the README's list item


STEPS = (
    Step(
        "data",
        "synthetic 100 Hz recordings of circle, X and Y gestures, idle and handling (picking "
        "the device up, putting it down), with ground truth (`training/synthetic.py`);",
    ),
    Step(
        "train",
        "the training pipeline writes the first model (circle, x, y) with its report: a model "
        "folder (manifest, .py, .mpy, report);",
    ),
    Step(
        "detect",
        "the device's detection chain under CPython on a recording it never saw, scored "
        "against the ground truth;",
    ),
    Step(
        "device",
        "on the local cloud (state in `build/demo/cloud/`), the device is provisioned as "
        "`gesture-stack devices add` does it, then the firmware under the real `micropython` "
        "binary replays that recording against it; the events are read back through "
        "`GET /events`, stored exactly once;",
    ),
    Step(
        "capture",
        f"the device records a new gesture, `{NEW_GESTURE}`, in capture mode with a label: "
        "each motion onset's window goes to `POST /samples` labelled with a name no model "
        "knows yet;",
    ),
    Step(
        "pipeline",
        "the local cloud's Step Functions machines run; collect exports what the device sent, "
        "retrain trains a candidate on the union of vocabularies and promotes it because it "
        f"adds {NEW_GESTURE} without losing F1 on circle, x or y on the same evaluation streams "
        "(the output and the promotion record say so, per gesture);",
    ),
    Step(
        "ota",
        "the device boots again, installs the new model from `GET /model`, detects "
        f"{NEW_GESTURE} in a fresh recording, and its telemetry reports the new vocabulary;",
    ),
    Step(
        "page",
        "`build/demo/index.html` sums it up: the steps, the promotion, the new gesture's "
        "events, the first model's report (timelines, confusion matrix, size and inference "
        "time), the dashboard and its screenshot.",
    ),
)


def _items(first: str, width: int) -> list[str]:
    """The numbered list of STEPS, `first` formatting each item's opening words."""
    return [
        textwrap.fill(
            f"{n}. {first.format(name=step.name)} {step.text}",
            width=width,
            subsequent_indent=" " * 3,
            break_on_hyphens=False,
            break_long_words=False,
        )
        for n, step in enumerate(STEPS, 1)
    ]


def help_text() -> str:
    """`gesture-stack demo --help`'s description."""
    steps = "\n".join(_items("{name}:", 88))
    return (
        "The whole system, locally, on embedded defaults; a device learns a gesture no model "
        f"knew.\n\n{steps}\n\nEach step says what it did; the page is the place to look "
        "afterwards."
    )


def readme_steps() -> str:
    """The README's list under "What `make demo` shows" (tests/docs compares them)."""
    return "\n".join(_items("**{name}**:", 96))


@dataclass
class DemoRun:
    out: Path
    grid: str
    retrain_grid: str = "compact"
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # step, status, summary
    promotion: str = ""
    new_events: list[dict] = field(default_factory=list)
    dashboard_url: str = ""
    up_command: str = ""
    screenshot: Path | None = None

    def step(self, name: str, summary: str, status: str = "ok") -> None:
        self.rows.append((name, status, summary))
        print(f"demo-step {name} {status}: {summary}", flush=True)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "demo", help="run the whole system locally (what `make demo` runs)", description=help_text()
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--grid", default="tiny", help="first model's grid (training/params.yml)")
    parser.add_argument("--retrain-grid", default="compact", help="the pipeline's retrain grid")
    parser.set_defaults(func=run)


def banner(name: str) -> None:
    """Opens step `name` of STEPS: its number and name."""
    names = [step.name for step in STEPS]
    if name not in names:
        raise KeyError(f"no demo step {name!r}")
    number = names.index(name) + 1
    print(f"\n== {number}/{len(STEPS)} {name} ==", flush=True)


def make_data(demo: DemoRun) -> tuple[Path, Path, Path, Path]:
    from training.recordings import write_recording
    from training.synthetic import DEFAULT_GESTURES, generate_dataset, generate_recording

    banner("data")
    data = demo.out / "data"
    train_dir = data / "train"
    paths = generate_dataset(train_dir, seed=TRAIN_SEED, count=6, duration_s=60)
    samples, events = generate_recording(DEMO_SEED, 90)
    recording = write_recording(data / "demo-recording.csv", samples, events)
    # a session of examples: the user performs the new gesture, nothing else
    new, new_events = generate_recording(CAPTURE_SEED, 180, gestures=(NEW_GESTURE,), handling=False)
    session = write_recording(data / f"capture-{NEW_GESTURE}.csv", new, new_events)
    fresh, fresh_events = generate_recording(
        FRESH_SEED, 90, gestures=(*DEFAULT_GESTURES, NEW_GESTURE)
    )
    after = write_recording(data / "after-update.csv", fresh, fresh_events)
    demo.step(
        "data",
        f"{len(paths)} training recordings in {train_dir}; demo recording {recording.name} "
        f"({len(samples) / 100:.0f} s, {len(events)} true gestures); a {NEW_GESTURE} session "
        f"({len(new_events)} examples) and a recording for after the update "
        f"({sum(e.gesture == NEW_GESTURE for e in fresh_events)} of "
        f"{len(fresh_events)} gestures are {NEW_GESTURE})",
    )
    return train_dir, recording, session, after


def train_model(demo: DemoRun, train_dir: Path) -> Path:
    from training.pipeline import train

    banner("train")
    model = demo.out / "model"
    result = train(train_dir, model, demo.grid, layers=demo.out / "layers", progress=print)
    test = result.manifest.metrics["test"]
    demo.step(
        "train",
        f"model {result.manifest.version} knows {', '.join(result.manifest.classes[1:])}: "
        f"held-out event F1 {test['f1']:.3f}, "
        f"{result.manifest.files[spec.MODEL_MPY].bytes} B .mpy, report {model / 'report.html'}",
    )
    return model


def detect_on_host(demo: DemoRun, model: Path, recording: Path) -> list[dict]:
    from training.detect import detect_samples
    from training.evaluation import Detection, score_events
    from training.recordings import labels_path_for, read_labels, read_recording

    banner("detect")
    samples = read_recording(recording)
    events = detect_samples(model, samples)
    for event in events:
        print(json.dumps(event))
    truth = read_labels(labels_path_for(recording))
    detections = [Detection(e["t_ms"], e["gesture"], e["score"]) for e in events]
    tolerance = json.loads((model / spec.MANIFEST_FILE).read_text())["metrics"]["tolerance_ms"]
    score = score_events(truth, detections, tolerance, int(samples[-1, 6]) + 10)
    demo.step(
        "detect",
        f"{len(events)} events on the unseen recording; vs ground truth: precision "
        f"{score.precision:.2f}, recall {score.recall:.2f}, F1 {score.f1:.2f}",
    )
    return events


def device_config(demo: DemoRun) -> Path:
    return demo.out / "device-config.json"


def provision_device(demo: DemoRun, cloud) -> str:
    """`gesture-stack devices add --endpoint --config-out`: the key and a firmware config."""
    from gesture_stack.cli import main as cli

    config = device_config(demo)
    args = ["devices", "add", DEMO_DEVICE, "--endpoint", cloud.url, "--config-out", str(config)]
    with contextlib.redirect_stdout(io.StringIO()):  # the key stays out of the demo's output
        if cli(args) != 0:
            raise RuntimeError(f"devices add {DEMO_DEVICE} failed")
    return json.loads(config.read_text())["api_key"]


def run_device(demo: DemoRun, recording: Path, *options: str) -> int:
    """`gesture-stack device --config`: the firmware under micropython, its flash kept in the
    demo folder."""
    from gesture_stack.cli import main as cli

    common = ["--config", str(device_config(demo)), "--recording", str(recording)]
    return cli(["device", *common, "--state", str(demo.out / "device"), *options])


def device_against_api(demo: DemoRun, api, key: str, model: Path, recording: Path, expected):

    banner("device")
    version = api.publish_model(model)
    print(f"local cloud at {api.url}; model {version} published; {DEMO_DEVICE} provisioned")
    code = run_device(demo, recording, "--drain-s", "20", "--capture")
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


def record_new_gesture(demo: DemoRun, session: Path) -> int:
    """The device in capture mode with a label: a window per motion onset, labelled shake."""
    banner("capture")
    code = run_device(demo, session, "--label", NEW_GESTURE, "--drain-s", "30")
    labelled = stored_windows(DEMO_DEVICE).get(NEW_GESTURE, 0)
    demo.step(
        "capture",
        f"firmware exit {code}; {labelled} windows labelled {NEW_GESTURE!r} accepted by "
        "POST /samples into the raw layer",
        _ok(code == 0 and labelled >= 10),
    )
    return labelled


def stored_windows(device_id: str) -> dict[str, int]:
    """Windows of a device in the raw layer, counted by label."""
    from functions import storage_layout, wiring
    from functions.settings import get_settings

    bucket, s3, counts = get_settings().data_bucket, wiring.s3(), {}
    pages = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=storage_layout.raw_samples_prefix(device_id)
    )
    for item in (i for page in pages for i in page.get("Contents", [])):
        label = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())["label"]
        counts[label] = counts.get(label, 0) + 1
    return counts


def run_pipeline(demo: DemoRun, cloud) -> dict:
    from localcloud.stepfunctions import LocalPipeline

    banner("pipeline")
    payload = {
        "run_data_collect": True,
        "run_data_process": True,
        "training": {"grid": demo.retrain_grid, "recordings": 6, "duration_s": 60},
    }
    # On the local cloud: collect exports what the device just sent.
    with LocalPipeline(endpoint=cloud.url) as pipeline:
        result = pipeline.run(payload)
    output = result.output or {}
    collected = output.get("collect", {}).get("output", {}).get("result", {})
    retrained = output.get("retrain", {}).get("output", {}).get("result", {})
    demo.promotion = retrained.get("reason", "")
    demo.step(
        "pipeline",
        f"main {result.status}; collect exported {collected.get('events', '?')} events and "
        f"{collected.get('windows', '?')} windows; "
        f"retrain: {'promoted' if retrained.get('promoted') else 'kept the current model'}: "
        f"{retrained.get('reason', result.error)}",
        _ok(result.status == "SUCCEEDED" and bool(retrained.get("promoted"))),
    )
    return retrained


def device_update(demo: DemoRun, cloud, key: str, recording: Path, retrained: dict) -> None:
    from functions import wiring
    from training.recordings import labels_path_for, read_labels

    banner("ota")
    before = {(e["seq"], e["t_ms"]) for e in query_events(cloud.url, key, DEMO_DEVICE)}
    code = run_device(demo, recording, "--drain-s", "20")
    running = json.loads((demo.out / "device" / "model" / spec.MANIFEST_FILE).read_text())
    current = retrained.get("current_version")
    fresh = [e for e in query_events(cloud.url, key, DEMO_DEVICE)
             if (e["seq"], e["t_ms"]) not in before]  # fmt: skip
    demo.new_events = [e for e in fresh if e["gesture"] == NEW_GESTURE]
    truth = sum(e.gesture == NEW_GESTURE for e in read_labels(labels_path_for(recording)))
    beats = wiring.telemetry().latest(DEMO_DEVICE, limit=1)
    reported = beats[0].get("gestures") if beats else None
    demo.step(
        "ota",
        f"device now runs model {running['version']} (current in the cloud: {current}), "
        f"which knows {', '.join(running['classes'][1:])}; in the fresh recording it detected "
        f"{len(demo.new_events)} {NEW_GESTURE} events ({truth} performed) among {len(fresh)}; "
        f"its telemetry reports the vocabulary {reported}",
        _ok(
            code == 0
            and running["version"] == current
            and NEW_GESTURE in running["classes"]
            and len(demo.new_events) >= truth // 2 > 0
            and NEW_GESTURE in (reported or [])
        ),
    )


def _ok(flag: bool) -> str:
    return "ok" if flag else "FAILED"


def dashboard_screenshot(demo: DemoRun, url: str) -> Path | None:
    """The dashboard's own screenshot code, `dashboard.browser.screenshot(url, out)` (headless
    Chromium), where it is there."""
    try:
        from dashboard.browser import screenshot as take
    except ImportError:
        return None
    out = demo.out / "dashboard.png"
    try:
        take(url, out)
    except Exception as exc:  # the demo goes on; the page says what happened
        print(f"dashboard screenshot failed: {exc}")
        return None
    return out if out.is_file() else None


def write_page(demo: DemoRun) -> Path:
    banner("page")
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
        f"{rows}</table>"
        f"<h2>Promotion</h2><p>{html.escape(demo.promotion)}</p>"
        f"<h2>The new gesture's events ({NEW_GESTURE}), from the device after the update</h2>"
        "<table><tr><th>t_ms<th>gesture<th>score<th>model</tr>"
        + "".join(
            f"<tr><td>{e['t_ms']}<td>{html.escape(e['gesture'])}<td>{e['score']:.2f}"
            f"<td>{html.escape(e['model_version'])}</tr>"
            for e in demo.new_events
        )
        + "</table><p><a href=model/report.html>first model's report</a> (timelines, "
        "confusion matrix, size and inference time)</p>"
        f"<p><a href={html.escape(demo.dashboard_url)}>dashboard</a> (live while "
        f"<code>{html.escape(demo.up_command)}</code> runs)"
        + (
            f"; <a href={demo.screenshot.name}>screenshot</a></p>"
            f"<img src={demo.screenshot.name} alt='dashboard' style='max-width:100%'>"
            if demo.screenshot
            else "; no screenshot (the dashboard's screenshot code is not there)</p>"
        )
    )
    demo.step("page", f"open {page}")
    return page


def run(args: argparse.Namespace) -> int:
    from localcloud.server import LocalCloud

    started = time.perf_counter()
    demo = DemoRun(out=args.out, grid=args.grid, retrain_grid=args.retrain_grid)
    demo.out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(demo.out / "device", ignore_errors=True)  # a new device: empty flash
    state = demo.out / "cloud"
    shutil.rmtree(state, ignore_errors=True)  # and a new cloud
    train_dir, recording, session, after = make_data(demo)
    model = train_model(demo, train_dir)
    expected = detect_on_host(demo, model, recording)
    with LocalCloud(port=0, state=state) as cloud:
        key = provision_device(demo, cloud)
        device_against_api(demo, cloud, key, model, recording, expected)
        record_new_gesture(demo, session)
        retrained = run_pipeline(demo, cloud)
        device_update(demo, cloud, key, after, retrained)
        demo.screenshot = dashboard_screenshot(demo, cloud.url + "/")
    demo.up_command = f".venv/bin/gesture-stack up --state {state}"
    demo.dashboard_url = "http://127.0.0.1:8000/"
    write_page(demo)
    failed = [name for name, status, _ in demo.rows if status != "ok"]
    print(f"\ndashboard: {demo.up_command}, then open {demo.dashboard_url}")
    print(
        f"dashboard screenshot: {demo.screenshot or 'none (dashboard screenshot code not there)'}"
    )
    print(f"\ndemo-result steps={len(demo.rows)} failed={len(failed)} ", end="")
    print(f"seconds={time.perf_counter() - started:.0f} page={demo.out / 'index.html'} ", end="")
    print(f"dashboard={demo.dashboard_url} screenshot={demo.screenshot or '-'}")
    return 1 if failed else 0


if __name__ == "__main__":
    from gesture_stack.cli import main

    sys.exit(main(["demo", *sys.argv[1:]]))
