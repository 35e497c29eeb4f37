"""One whole run with the real training package (tiny grid): collect, retrain, promote."""

from __future__ import annotations

import json

from functions import storage_layout
from pipeline import run_layout
from pipeline.training_backend import DEFAULT_BACKEND
from tests.pipeline.conftest import read_json


def test_main_collects_retrains_and_promotes_a_real_model(local_pipeline):
    with local_pipeline(PIPELINE_TRAINING_BACKEND=DEFAULT_BACKEND) as p:
        key = storage_layout.raw_sample_key("dev-1", 1_767_225_600_000, "ab" * 32)
        window = {"t_ms": 1_767_225_600_000, "rate_hz": 100, "signals": ["acc_x"], "values": [[0]]}
        p.s3.put_object(Bucket=p.bucket, Key=key, Body=json.dumps(window).encode())
        result = p.run(
            {"run_data_collect": True, "run_data_process": True, "training": {"grid": "tiny"}},
            name="e2e",
        )
        pointer = read_json(p.s3, p.bucket, storage_layout.CURRENT_MODEL_KEY)
        manifest = read_json(p.s3, p.bucket, pointer["prefix"] + "manifest.json")
        mpy = p.s3.get_object(Bucket=p.bucket, Key=pointer["prefix"] + "model.mpy")["Body"].read()
        report = read_json(p.s3, p.bucket, run_layout.promotion_report_key("e2e"))
    assert result.status == "SUCCEEDED", (result.error, result.cause, p.lines[-20:])
    out = result.output["retrain"]["output"]["result"]
    assert out["promoted"] is True and out["previous_version"] is None
    assert pointer["version"] == out["candidate_version"] == manifest["version"]
    assert (
        len(mpy) == manifest["files"]["model.mpy"]["bytes"] <= report["budgets"]["model_mpy_bytes"]
    )
    assert report["data_run_id"] == "e2e"  # the collect job of the same run filled the raw layer
    assert 0 < report["candidate"]["scores"]["score"] <= 1
    assert result.output["collect"]["output"]["result"]["windows"] == 1
