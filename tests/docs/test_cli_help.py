"""The CLI explains itself: descriptions, help and defaults, one-line errors, README's table."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest
from doc_blocks import inline_code, table_rows

from gesture_stack import cli, demo
from localcloud import where

REPO = Path(__file__).resolve().parents[2]
PARSER = cli.build_parser()


def subcommands(parser: argparse.ArgumentParser, prefix: str = "") -> dict:
    """ "name" or "name action" -> its parser, nested subcommands included."""
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[prefix + name] = sub
                found |= subcommands(sub, f"{prefix}{name} ")
    return found


ALL = subcommands(PARSER)
COMMANDS = {name: p for name, p in ALL.items() if " " not in name}  # the top level
OUTPUTS = {
    "out",
    "build",
    "state",
    "layers",
    "config_out",
}  # Path options a command writes, not reads


def options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    skip = (argparse._HelpAction, argparse._SubParsersAction)
    return [a for a in parser._actions if not isinstance(a, skip)]


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_subcommand_has_a_description_and_help_for_every_option(name):
    parser = ALL[name]
    assert parser.description, f"gesture-stack {name} has no description"
    for action in options(parser):
        assert action.help, f"gesture-stack {name} {action.dest}: no help"


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_default_is_shown_in_help(name):
    parser = ALL[name]
    text = " ".join(parser.format_help().split())
    for action in options(parser):
        if action.default in (None, False) or action.required:
            continue
        shown = str(action.default)
        if isinstance(action.default, Path) and action.default.is_absolute():
            shown = str(action.default.relative_to(Path.cwd()))
        assert f"default: {shown}" in text or f"default {shown}" in text, (name, action.dest)


def test_detect_help_says_which_model_folder_it_uses():
    assert "(default: build/model)" in COMMANDS["detect"].format_help()


def test_demo_help_lists_every_step_as_a_list():
    help_text = COMMANDS["demo"].format_help()
    listed = re.findall(r"^(\d+)\. (\w+)", help_text, flags=re.MULTILINE)
    assert listed == [(str(n), step.name) for n, step in enumerate(demo.STEPS, 1)]
    for step in demo.STEPS:  # each step's whole text, however it is wrapped
        assert " ".join(step.text.split()) in " ".join(help_text.split()), step.name


def readme_demo_section() -> str:
    text = (REPO / "README.md").read_text()
    start = text.index("### What `make demo` shows\n") + len("### What `make demo` shows\n")
    return text[start:].lstrip("\n").split("\n\n")[0]  # the paragraph under the heading


def test_the_readmes_demo_steps_are_the_demos():
    expected = demo.readme_steps()
    assert readme_demo_section() == expected, (
        "README.md's list under 'What `make demo` shows' must be gesture_stack/demo.py's "
        "STEPS: paste the output of\n"
        ".venv/bin/python -c 'from gesture_stack import demo; print(demo.readme_steps())'\n"
        + expected
    )


def test_every_demo_banner_names_a_step_in_order(capsys):
    for n, step in enumerate(demo.STEPS, 1):
        demo.banner(step.name)
        assert f"== {n}/{len(demo.STEPS)} {step.name} ==" in capsys.readouterr().out
    with pytest.raises(KeyError):
        demo.banner("no-such-step")


def test_the_readme_command_table_lists_every_subcommand():
    rows = table_rows(REPO / "README.md", "The `gesture-stack` command")
    documented = set()
    for cells in rows:
        [usage, *_] = inline_code(cells[0])
        words = usage.split()
        assert words[0] == "gesture-stack", usage
        documented.add(words[1])
    assert documented == set(COMMANDS)


def file_arguments() -> list[tuple[str, str]]:
    return [
        (name, action.dest)
        for name, parser in sorted(ALL.items())
        for action in options(parser)
        if action.type is Path and action.dest not in OUTPUTS
    ]


def argv_with_missing(name: str, dest: str, missing: Path) -> list[str]:
    """The command with `dest` naming a missing file and every other required value filled."""
    argv = name.split()
    for action in options(ALL[name]):
        unset = action.default is None and action.nargs != 0 and action.type is not Path
        if action.dest != dest and not action.required and not unset:
            continue
        value = str(missing) if action.type is Path else (action.choices or ["x"])[0]
        argv += [action.option_strings[0], value] if action.option_strings else [value]
    return argv


@pytest.mark.parametrize(("name", "dest"), file_arguments())
def test_a_missing_file_is_a_one_line_error(name, dest, tmp_path):
    missing = tmp_path / "no-such-file"
    argv = argv_with_missing(name, dest, missing)
    result = subprocess.run(
        [sys.executable, "-m", "gesture_stack.cli", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, (argv, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "no-such-file" in line, line


@pytest.mark.parametrize("module", ["localcloud.server", "functions.openapi"])
def test_module_commands_name_themselves_as_typed(module):
    result = subprocess.run(
        [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.startswith(f"usage: python -m {module} "), result.stdout[:200]


def where_options() -> list[tuple[str, argparse.Action]]:
    return [
        (name, action)
        for name, parser in sorted(ALL.items())
        for action in options(parser)
        if action.dest in ("endpoint", "stage")
    ]


def test_endpoint_and_stage_are_the_shared_options_everywhere():
    found = where_options()
    assert {name for name, a in found if a.dest == "endpoint"} >= {"pipeline", "devices add"}
    for name, action in found:
        if action.dest == "endpoint":
            assert action.help.startswith(where.ENDPOINT_HELP), name
            assert action.type is where.endpoint_url, name
        else:
            assert action.help == where.STAGE_HELP, name
    runner = subprocess.run(
        [sys.executable, "local_handlers/ingest.py", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert " ".join(where.ENDPOINT_HELP.split()) in " ".join(runner.stdout.split())


@pytest.mark.parametrize(
    "argv",
    [["pipeline"], ["devices", "list"], ["devices", "add", "dev-1"]],
    ids=" ".join,
)
@pytest.mark.parametrize("url", ["127.0.0.1:8000", "ftp://127.0.0.1:8000", "http://"])
def test_an_endpoint_that_is_not_a_url_is_a_one_line_error(argv, url, capsys):
    with pytest.raises(SystemExit) as stop:
        PARSER.parse_args([*argv, "--endpoint", url])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("error:") == 1, err
    line = err.strip().splitlines()[-1]  # after argparse's usage lines
    assert "error: argument --endpoint" in line and url in line and "gesture-stack up" in line


def test_an_endpoint_is_used_without_its_trailing_slash():
    args = PARSER.parse_args(["devices", "list", "--endpoint", "http://127.0.0.1:8000/"])
    assert args.endpoint == "http://127.0.0.1:8000"


def test_devices_need_exactly_one_of_endpoint_and_stage(capsys):
    for extra in ([], ["--endpoint", "http://127.0.0.1:1", "--stage", "dev"]):
        with pytest.raises(SystemExit):
            PARSER.parse_args(["devices", "list", *extra])
