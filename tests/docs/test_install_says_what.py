"""The first install says what it installs, and the longest step shows its progress."""

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_each_install_step_is_announced_and_the_package_sync_is_not_quiet():
    plan = subprocess.run(
        ["make", "-n", "-B", "install"], cwd=REPO, capture_output=True, text=True, timeout=60
    ).stdout.splitlines()
    installers = [i for i, line in enumerate(plan) if "pip " in line or "npm ci" in line]
    assert len(installers) >= 4, plan
    for before, i in zip([-1, *installers], installers, strict=False):
        announced = [line for line in plan[before + 1 : i] if line.startswith('echo "install:')]
        assert announced, f"nothing says what `{plan[i]}` installs"
    [sync] = [line for line in plan if "pip sync" in line]
    assert "--quiet" not in sync  # uv prints what it resolves, downloads and installs
