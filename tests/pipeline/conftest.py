"""Fixtures for the pipeline area: a local pipeline (moto) per test, with the fast fake training."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FAKE_BACKEND = "tests.pipeline.fake_training:FakeTraining"


@pytest.fixture
def local_pipeline(tmp_path):
    """Factory: `with local_pipeline(run_build=None) as p:`; jobs use the fake training backend
    and a work folder under tmp_path; Retry waits are skipped; log lines are collected."""
    from localcloud.stepfunctions import LocalPipeline

    def make(run_build=None, **job_env):
        lines: list[str] = []
        env = {
            "WORK_ROOT": str(tmp_path / "work"),
            "PIPELINE_TRAINING_BACKEND": FAKE_BACKEND,
            **job_env,
        }
        pipeline = LocalPipeline(
            run_build=run_build, log=lines.append, retry_delay_scale=0.0, job_environment=env
        )
        pipeline.lines = lines
        return pipeline

    return make


def read_json(s3, bucket: str, key: str):
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def push_along_x() -> list[list[int]]:
    """One second of raw counts at 100 Hz: at rest (1 g on z), a push along x in the middle."""
    rows = []
    for i in range(100):
        ax = int(12000 * math.sin(math.pi * (i - 30) / 40)) if 30 <= i < 70 else 0
        rows.append([ax, 0, 16384, 0, 0, 0])
    return rows
