"""Which cloud a command talks to: `--endpoint URL` (the local cloud of `gesture-stack up`) or
`--stage STAGE` (a deployed stage). The one definition of both options (name, help, check),
used by `gesture-stack devices`, `gesture-stack pipeline` and local_handlers/*.py."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

ENDPOINT_HELP = "the local cloud's URL, as `gesture-stack up` prints it (api=URL)"
STAGE_HELP = "a deployed stage (your AWS credentials)"


def endpoint_url(text: str) -> str:
    """An http(s) URL with a host, without its trailing slash (paths are appended to it)."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an http(s) URL such as http://127.0.0.1:8000 "
            "(what `gesture-stack up` prints as api=URL)"
        )
    return text.rstrip("/")


def add_endpoint(parser, without: str | None = None) -> None:
    """--endpoint URL on a parser or a mutually exclusive group; `without` says what the
    command does when it is not given."""
    help_text = ENDPOINT_HELP if without is None else f"{ENDPOINT_HELP}; without it, {without}"
    parser.add_argument("--endpoint", metavar="URL", type=endpoint_url, help=help_text)


def add_endpoint_or_stage(parser: argparse.ArgumentParser) -> None:
    """Exactly one of --endpoint URL and --stage STAGE."""
    where = parser.add_mutually_exclusive_group(required=True)
    add_endpoint(where)
    where.add_argument("--stage", metavar="STAGE", help=STAGE_HELP)
