"""Every command the READMEs tell a user to type runs, in a copy of the repository.

The commands come from the fenced `sh` blocks of README.md and every part's README (a block
of another language holds no commands: pdb transcripts, answers, diagrams). Placeholders are
filled (PLACEHOLDERS); a few commands run in a cheaper or offline form (REWRITES), a very
few cannot run here and say why (SKIPS). A `json` block right after an `sh` block is the
answer its last command prints. One local cloud serves every command that talks to an API.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from doc_blocks import fenced_blocks, inline_code, shell_commands, table_rows

from tests.repo_files import repo_files

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
READMES = sorted(REPO / p for p in repo_files("*README.md"))
FIRMWARE_IMAGE = "ESP32_GENERIC-v1.28.0.bin"
# make must never reinstall from the copy: the editable install would then point at it.
KEEP_INSTALLED = "-o .venv/bin/gesture-stack -o node_modules/.package-lock.json"
FAKE_TRAINING = "tests.pipeline.fake_training:FakeTraining"

# Commands that cannot run in a test, and why. Keep this short: everything else runs.
SKIPS = {
    "make demo": "tests/test_demo.py runs the demo",
    "make test": "the suite this test is part of",
    "aws stepfunctions": "needs an AWS account",
    "gesture-stack pipeline-source": "uploads to the stage's bucket: needs an AWS account",
    "local_handlers/ingest.py --aws": "needs an AWS account",
    "local_handlers/ingest.py --pdb": "interactive: tests/docs/test_pdb_guide.py runs it",
    "mpremote connect PORT repl": "needs a board (the subcommand is checked)",
    "mpremote connect PORT ls": "needs a board (the subcommand is checked)",
    "mpremote connect PORT cat": "needs a board (the subcommand is checked)",
}
# (pattern, replacement, why): the command runs, in this form.
REWRITES = [
    (r"npx osls deploy (.*)", r"npx osls package \1", "deploying needs AWS; package is offline"),
    (
        r"^make deploy STAGE=(\S+)",
        r"make package STAGE=\1",
        "deploying needs AWS; package is offline",
    ),
    (r"^(make flash .*)$", r"\1 DRY_RUN=1", "no board: the dry run prints the commands"),
    (r"^make ", f"make {KEEP_INSTALLED} ", "the copy shares the repository's installed tools"),
    (r"^(.*gesture-stack train (?!.*--grid).*)$", r"\1 --grid tiny", "the default grid is slow"),
]
# What an esptool/mpremote line needs a board for: checked against `flash --dry-run` instead.
LOCAL_CLOUD = ".venv/bin/gesture-stack up"
BOARD_TOOLS = (".venv/bin/esptool", ".venv/bin/mpremote")


class Sandbox:
    """A copy of the working tree (the tools of .venv and node_modules linked, not copied)."""

    def __init__(self, root: Path):
        self.repo = root / "repo"
        self.scratch = root / "scratch"
        self.scratch.mkdir()
        for name in repo_files():
            (self.repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, self.repo / name)  # mtimes kept: make sees no change
        for name in (".venv", "node_modules", ".tools"):
            if (REPO / name).exists():
                (self.repo / name).symlink_to(REPO / name)
        seed = Path(os.environ.get("GESTURE_SEED_DATA", REPO.parent / "shared" / "data"))
        if seed.name == "seed-imu":
            seed = seed.parent
        (root / "shared").mkdir()
        (root / "shared" / "data").symlink_to(seed)
        self.env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([str(self.repo), str(self.repo / "firmware" / "lib")]),
            "PIPELINE_TRAINING_BACKEND": FAKE_TRAINING,  # the pipeline tests train for real
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "SLS_TELEMETRY_DISABLED": "1",
        }
        self.placeholders: dict[str, str] = {}
        self.api: subprocess.Popen | None = None

    def start_cloud(self) -> None:
        """`gesture-stack up` on a free port, and one device key for the commands that need one."""
        self.api = subprocess.Popen(
            [str(BIN / "gesture-stack"), "up", "--port", "0", "--state", str(self.scratch / "up")],
            cwd=self.repo,
            env=self.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.api.stdout.readline()  # blocks until the cloud is up
        match = re.search(r"api=(\S+)", line)
        assert match, f"the local cloud did not start: {line!r}"
        # up logs a line per request: read them, or a full pipe blocks every request it serves
        threading.Thread(target=self.api.stdout.read, daemon=True).start()
        url = match.group(1)
        added = self.run(f".venv/bin/gesture-stack devices add docs-1 --endpoint {url}")
        key = re.search(r" key=(\S+)", added.stdout)
        assert key, added.stdout + added.stderr
        self.placeholders |= {"http://127.0.0.1:8000": url, "URL": url, "KEY": key.group(1)}

    def stop(self) -> None:
        if self.api:
            self.api.terminate()
            self.api.wait(timeout=30)

    def run(self, script: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=self.repo,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


def write_clips(root: Path) -> Path:
    """A clip folder (training/clips.py): each synthetic gesture cut out, one 100 Hz CSV each."""
    import csv

    from gesture import units

    from training.synthetic import generate_recording

    k = 0
    for seed in (61, 62, 63):
        samples, events = generate_recording(seed, 40, gestures=("circle", "x"), handling=False)
        for e in events:
            a, b = max(e.start_ms // 10 - 80, 0), e.end_ms // 10 + 80
            path = root / e.gesture / f"clip{k:03d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow([*units.SIGNALS, "ms"])
                for i, row in enumerate(samples[a:b, :6]):
                    w.writerow([*(f"{v:.5f}" for v in row), i * 10])
            k += 1
    return root


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    box = Sandbox(tmp_path_factory.mktemp("docs"))
    from training.recordings import write_recording
    from training.synthetic import generate_dataset, generate_recording

    recordings = box.scratch / "recordings"
    generate_dataset(recordings, seed=5, count=4, duration_s=40)
    samples, events = generate_recording(6, 30)
    recording = write_recording(box.scratch / "recording.csv", samples, events)
    (box.repo / FIRMWARE_IMAGE).write_bytes(b"\xe9 a MicroPython image stand-in")
    box.placeholders |= {
        "CLIPS_DIR": str(write_clips(box.scratch / "clips")),
        "RECORDINGS_DIR": str(recordings),
        "RECORDING.csv": str(recording),
        "MODEL_DIR": "build/model",
        "DIR": "build/model",
        "build/demo/data/demo-recording.csv": str(recording),  # what `make demo` leaves
    }
    box.start_cloud()
    yield box
    box.stop()
    import gesture_stack

    assert Path(gesture_stack.__file__).is_relative_to(REPO)
    installed = subprocess.run(
        [str(BIN / "python"), "-c", "import gesture_stack; print(gesture_stack.__file__)"],
        cwd="/",
        capture_output=True,
        text=True,
    ).stdout
    assert installed.startswith(str(REPO)), f"a command reinstalled from the copy: {installed}"


def blocks():
    """Every sh block of every README, in the order a reader meets them."""
    found = []
    for path in READMES:
        found += fenced_blocks(path, "sh")
    return found


def test_every_readme_block_says_what_it_holds():
    """A bare fence hides commands from this test: each block names its language."""
    for path in READMES:
        for block in fenced_blocks(path):
            assert block.lang, f"{block.where}: give the fenced block a language (sh, json, ...)"


def test_commands_run_from_the_repository_root_through_the_venv_or_make():
    """A bare `gesture-stack` or `mpremote` works only inside an activated venv."""
    allowed = (".venv/bin/", "make ", "npx ", "cp ", "curl ", "KEY=", "aws ")
    for block in blocks():
        for command in shell_commands(block):
            assert command.startswith(allowed), f"{block.where}: {command}"


def fill(command: str, placeholders: dict[str, str]) -> str:
    for name in sorted(placeholders, key=len, reverse=True):
        pattern = re.escape(name) if not name.isupper() else rf"(?<![\w/$-]){name}(?![\w.=-])"
        command = re.sub(pattern, lambda _m, v=placeholders[name]: v, command)
    return command


def prepare(command: str, placeholders: dict[str, str]) -> str | None:
    """The command as the test runs it, or None if it is skipped."""
    for needle in SKIPS:
        if needle in command:
            return None
    for pattern, replacement, _why in REWRITES:
        command = re.sub(pattern, replacement, command)
    if re.search(r"\bdeploy\b", command.split("#")[0]):
        raise AssertionError(f"{command!r} would reach AWS: add a REWRITE or a SKIP")
    return fill(command, placeholders)


def answer_after(block) -> str | None:
    """The json block right after `block` in its file, if there is one."""
    later = [b for b in fenced_blocks(block.path) if b.line > block.line]
    if later and later[0].lang == "json":
        between = block.path.read_text().splitlines()[block.line : later[0].line - 1]
        if "```" in between[-1] or not any(line.startswith("```") for line in between[:-1]):
            return later[0].text
    return None


def board_checks(command: str) -> list[str]:
    """esptool / mpremote lines: the tool is installed and knows the subcommand."""
    words = command.split()
    if words[0].endswith("esptool"):
        sub = next(w for w in words if w in ("erase-flash", "write-flash"))
        return [f"{words[0]} {sub} --help"]
    sub = words[3] if words[1] == "connect" else words[1]
    return [f"{words[0]} help | grep -w {sub} >/dev/null"]


def test_every_readme_command_runs(sandbox):
    failures, ran, done = [], 0, set()
    for block in blocks():
        script = []
        for command in shell_commands(block):
            if command.startswith(LOCAL_CLOUD):
                continue  # the sandbox's local cloud is that command, started on a free port
            if command.startswith(BOARD_TOOLS):
                script += board_checks(command)
                continue
            prepared = prepare(command, sandbox.placeholders)
            if prepared and prepared not in done:  # e.g. the same training in two READMEs
                script.append(prepared)
                done.add(prepared)
        if not script:
            continue
        started = time.monotonic()
        result = sandbox.run("\n".join(script))
        print(f"{block.where}: {len(script)} commands, {time.monotonic() - started:.1f} s")  # -s
        ran += len(script)
        if result.returncode != 0:
            failures.append(f"{block.where}:\n{result.stdout[-1500:]}{result.stderr[-1500:]}")
            continue
        expected = answer_after(block)
        if expected is not None:
            last = result.stdout.strip().splitlines()[-1]
            if json.loads(last) != json.loads(expected):
                failures.append(f"{block.where}: answered {last}, the README shows {expected}")
    assert not failures, "\n\n".join(failures)
    assert ran > 20


def test_the_flash_commands_the_firmware_readme_shows_are_what_flash_prints(sandbox):
    readme = REPO / "firmware" / "README.md"
    [shown] = [b for b in fenced_blocks(readme, "sh") if "write-flash" in b.text]
    model = sandbox.repo / "build" / "model"
    if not (model / "manifest.json").exists():
        sandbox.run(
            prepare(
                ".venv/bin/gesture-stack train --data RECORDINGS_DIR --out build/model",
                sandbox.placeholders,
            )
        )
    sandbox.run(
        ".venv/bin/gesture-stack ca firmware/amazon-root-ca-1.der\n"
        "cp firmware/config.example.json firmware/config.json"
    )
    result = sandbox.run(
        f".venv/bin/gesture-stack flash --port PORT --erase --firmware {FIRMWARE_IMAGE} "
        "--model build/model --build build/flash --dry-run"
    )
    assert result.returncode == 0, result.stderr
    printed = [line.replace(str(sandbox.repo) + "/", "") for line in result.stdout.splitlines()]
    assert [c.removeprefix(".venv/bin/") for c in shell_commands(shown)] == printed


def test_the_command_table_names_only_options_the_commands_have():
    from gesture_stack import cli

    parser = cli.build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for cells in table_rows(REPO / "README.md", "The `gesture-stack` command"):
        usage = inline_code(cells[0])[0].split()
        command, rest = commands[usage[1]], usage[2:]
        while rest and rest[0] in _subcommands(command):  # e.g. `devices add`
            command, rest = _subcommands(command)[rest[0]], rest[1:]
        known = {o for a in command._actions for o in a.option_strings}
        for word in rest:
            option = word.strip("[]")
            if option.startswith("--"):
                assert option in known, f"{' '.join(usage)}: {option}"


def _subcommands(parser) -> dict:
    return next((a.choices for a in parser._actions if a.dest == "action"), {})


def test_every_make_target_a_readme_names_exists():
    targets = set(re.findall(r"^([a-z-]+):", (REPO / "Makefile").read_text(), re.MULTILINE))
    for path in READMES:
        for code in inline_code(path.read_text()):
            if code.startswith("make "):
                assert code.split()[1] in targets, f"{path.name}: `{code}`"
