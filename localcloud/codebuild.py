"""Run a CodeBuild project's buildspec as a local process: what CodeBuild would run, minus the
container. Used by the moto adapter for `codebuild:startBuild.sync`.

The pre_build, build and post_build commands run in order in one bash process (as in
buildspec 0.2, where environment changes carry over between commands) with the project's
environment plus the state machine's overrides; the first failing command fails the build.
The install phase is skipped: on a laptop it is what `make install` already did. At the end
the buildspec's `exported-variables` are read back, as CodeBuild exports them.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from localcloud.moto_adapter import BuildResult

LOCAL_PHASES = ("pre_build", "build", "post_build")


class BuildspecError(ValueError):
    """A buildspec this runner cannot run."""


def load_buildspec(path: Path) -> dict:
    spec = yaml.safe_load(Path(path).read_text())
    if not isinstance(spec, dict) or str(spec.get("version")) != "0.2":
        raise BuildspecError(f"{path}: expected a buildspec with version: 0.2")
    return spec


def build_script(spec: dict, export_dir: Path) -> str:
    """One bash script: the local phases' commands, then the exported variables to files."""
    env = spec.get("env", {}) or {}
    lines = ["set -eo pipefail"]
    for name, value in (env.get("variables", {}) or {}).items():
        lines.append(f"export {name}=${{{name}-{shlex.quote(str(value))}}}")
    for phase in LOCAL_PHASES:
        lines.extend((spec.get("phases", {}).get(phase) or {}).get("commands", []))
    for name in env.get("exported-variables", []) or []:
        lines.append(f'printf "%s" "${{{name}-}}" > {shlex.quote(str(export_dir / name))}')
    return "\n".join(lines) + "\n"


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


@dataclass
class LocalCodeBuild:
    """Callable(project name, overrides) -> BuildResult for `localcloud.moto_adapter`."""

    repo: Path
    buildspecs: dict[str, Path]  # project name -> buildspec path (relative to repo)
    environment: dict[str, str] = field(default_factory=dict)  # the project's variables
    log: Callable[[str], None] = print
    timeout_s: float = 3600
    builds: list[dict] = field(default_factory=list)  # what ran: project, env, status

    def __call__(self, project: str, overrides: dict[str, str]) -> BuildResult:
        if project not in self.buildspecs:
            raise BuildspecError(f"no buildspec for CodeBuild project {project!r}")
        spec = load_buildspec(self.repo / self.buildspecs[project])
        env = {**os.environ, **self.environment, **overrides}
        env["CODEBUILD_BUILD_ID"] = f"{project}:{uuid.uuid4()}"
        with tempfile.TemporaryDirectory(prefix="codebuild-") as tmp:
            export_dir = Path(tmp)
            status = self._run(build_script(spec, export_dir), env)
            exported = {p.name: p.read_text() for p in sorted(export_dir.iterdir()) if p.is_file()}
        self.builds.append({"project": project, "overrides": overrides, "status": status})
        return BuildResult(status, exported)

    def _run(self, script: str, env: dict[str, str]) -> str:
        proc = subprocess.Popen(
            ["bash", "-c", script],
            cwd=self.repo,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # so a timeout stops the commands' children too
        )
        timer = threading.Timer(self.timeout_s, _kill_group, (proc.pid,))
        timer.start()
        try:
            for line in proc.stdout:
                self.log(line.rstrip("\n"))
            proc.wait()
        finally:
            timed_out = not timer.is_alive()
            timer.cancel()
        if proc.returncode == 0:
            return "SUCCEEDED"
        return "TIMED_OUT" if timed_out else "FAILED"
