"""The one-line JSON a job hands back to its state machine (CodeBuild exported variable), and
the frame every job runs in: a rejected input or a failed job is a result too,
{"error": ..., "cause": "<in words>"}, which the child machine turns into its failure."""

from __future__ import annotations

import json
import os
import shutil
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from pipeline import run_input
from pipeline.run_layout import check_run_id
from pipeline.settings import DEFAULT_WORK_ROOT, JobSettings, SettingsError

FAILED = {"collect": "Pipeline.CollectFailed", "retrain": "Pipeline.RetrainFailed"}


def write_result(work_dir: Path, result: dict) -> Path:
    """Write the job's result where the buildspec picks it up, and print it for the log."""
    path = Path(work_dir) / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, sort_keys=True, separators=(",", ":"))
    path.write_text(text)
    print(f"pipeline-job-result {text}", flush=True)
    return path


def run_job(job: str, work: Callable[[JobSettings], dict], env: dict | None = None) -> int:
    """Run `work` with the job's settings and write its result.

    Exit 2 (the build fails, the machine retries it once) only when the build's environment
    is broken. Bad execution input ends the job with {"error": "Pipeline.InvalidInput",
    "cause"}; an exception in the job with {"error": "Pipeline.<Job>Failed", "cause": "<what
    went wrong>"}, the traceback in the build log. Both exit 0: retrying cannot help, and the
    machine reads the cause from the result.
    """
    env = dict(os.environ if env is None else env)
    try:
        settings = JobSettings.from_env(job, env)
    except SettingsError as exc:
        print(f"{job}: {exc}", file=sys.stderr)
        return 2
    except run_input.InvalidInput as exc:
        work_dir = Path(env.get("WORK_ROOT") or DEFAULT_WORK_ROOT) / check_run_id(env["RUN_ID"])
        write_result(work_dir / job, failure(run_input.ERROR, f"{job}: {exc}"))
        return 0
    shutil.rmtree(settings.work_dir, ignore_errors=True)  # a retried build starts clean
    try:
        result = work(settings)
    except run_input.InvalidInput as exc:
        result = failure(run_input.ERROR, f"{job}: {exc}")
    except Exception as exc:
        traceback.print_exc()
        cause = f"{job} failed: {type(exc).__name__}: {exc} (traceback in the build log)"
        result = failure(FAILED[job], cause)
    write_result(settings.work_dir, result)
    return 0


def failure(error: str, cause: str) -> dict:
    return {"error": error, "cause": cause}
