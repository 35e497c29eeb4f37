"""The one-line JSON a job hands back to its state machine (CodeBuild exported variable)."""

from __future__ import annotations

import json
from pathlib import Path


def write_result(work_dir: Path, result: dict) -> Path:
    """Write the job's result where the buildspec picks it up, and print it for the log."""
    path = Path(work_dir) / "result.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, sort_keys=True, separators=(",", ":"))
    path.write_text(text)
    print(f"pipeline-job-result {text}", flush=True)
    return path
