"""The CodeBuild projects' source: a zip of the repository's committed files in the bucket.

    gesture-stack pipeline-source --bucket gesture-stack-dev-data-<suffix>

`git archive` of HEAD, so a build runs exactly what is committed (no .venv, no local data).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

SOURCE_KEY = "pipeline/source.zip"  # infra/pipeline.yml: Source.Location = <bucket>/<this key>
REPO = Path(__file__).resolve().parents[1]


def build_source_zip(out: Path, repo: Path = REPO, ref: str = "HEAD") -> Path:
    """Write the zip of `ref` to `out`; ValueError when `repo` is not a git checkout."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["git", "archive", "--format=zip", "-o", str(out), ref],
        cwd=repo,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise ValueError(f"git archive {ref} failed: {done.stderr.strip()}")
    return out


def upload_source(s3, bucket: str, zip_path: Path) -> str:
    """Upload the zip where the CodeBuild projects read their source; returns the version id."""
    response = s3.put_object(Bucket=bucket, Key=SOURCE_KEY, Body=Path(zip_path).read_bytes())
    return response.get("VersionId", "")
