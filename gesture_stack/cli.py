"""The `gesture-stack` command: one entry point; each part of the system adds its subcommands.

Each module in PARTS has `register(subparsers)`, which adds its subcommands and sets
`func` on each; heavy imports happen inside the command, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import sys
from pathlib import Path

PARTS = (
    "training.cli",  # train, detect
    "gesture_stack.device",  # replay, device, flash
    "gesture_stack.pipeline_cli",  # pipeline, pipeline-source
    "gesture_stack.cloud_cli",  # up, devices
    "gesture_stack.demo",  # demo
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions keep their line breaks (numbered lists); every option shows its default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if default in (None, False, argparse.SUPPRESS) or "default" in text or action.required:
            return text
        if isinstance(default, Path) and default.is_absolute():
            default = (
                default.relative_to(Path.cwd()) if default.is_relative_to(Path.cwd()) else default
            )
        shown = str(default).replace("%", "%%")
        return f"{text} (default: {shown})"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gesture-stack",
        description="Gesture detection stack: train, run the device, the pipeline and the demo.",
        formatter_class=HelpFormatter,
    )
    subparsers = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="COMMAND",
        parser_class=functools.partial(argparse.ArgumentParser, formatter_class=HelpFormatter),
    )
    for name in PARTS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
