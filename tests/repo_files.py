"""The project's files as git sees them (tracked, or new and not ignored), for the tests that
read or copy the whole tree: one listing instead of one per test."""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def repo_files(*patterns: str) -> list[str]:
    """Paths relative to the repository root that exist as files, matching `patterns` (git
    pathspecs such as "*.py"; none: every file)."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *patterns],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [name for name in names if (REPO / name).is_file()]
