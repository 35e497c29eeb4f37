"""The `gesture-stack` command: one entry point; each part of the system adds its subcommands.

Each module in PARTS has `register(subparsers)`, which adds its subcommands and sets
`func` on each; heavy imports happen inside the command, so `--help` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

PARTS = (
    "training.cli",  # train, detect
    "gesture_stack.device",  # replay, device, flash
    "gesture_stack.pipeline_cli",  # pipeline, pipeline-source
    "gesture_stack.cloud_cli",  # up, devices
    "gesture_stack.demo",  # demo
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gesture-stack", description="Gesture detection stack.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in PARTS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            continue  # that part is not built yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
