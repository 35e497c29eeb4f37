"""The whole loop with the real training package (tiny grid): a device posts a window and an
event to the local API, main collects and retrains, and the API then serves the promoted model."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

from functions import storage_layout, wiring
from localcloud.server import LocalCloud
from pipeline import run_layout
from pipeline.training_backend import DEFAULT_BACKEND
from tests.pipeline.conftest import push_along_x, read_json

SIGNALS = ["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]


def call(api: LocalCloud, key: str, method: str, path: str, body=None) -> tuple[int, dict | None]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"x-api-key": key, "content-type": "application/json"}
    request = urllib.request.Request(api.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, None


def test_device_data_becomes_a_promoted_model_that_the_api_serves(local_pipeline):
    now = int(time.time() * 1000)
    window = {"t_ms": now, "rate_hz": 100, "signals": SIGNALS, "values": push_along_x()}
    event = {"seq": 1, "gesture": "x", "t_ms": now, "score": 0.9, "model_version": "v0"}
    with LocalCloud(port=0) as api:
        key = api.add_device("dev-1")
        wiring.models().add_to_vocabulary({"version": "v0", "classes": ["idle", "x"]})
        assert call(api, key, "POST", "/samples", {**window, "label": "x"})[0] == 200
        assert call(api, key, "POST", "/events", {"events": [event]})[0] == 200
        assert call(api, key, "GET", "/model")[0] == 404
        with local_pipeline(PIPELINE_TRAINING_BACKEND=DEFAULT_BACKEND) as p:
            result = p.run(
                {
                    "run_data_collect": True,
                    "run_data_process": True,
                    "training": {"grid": "tiny", "evaluation_recordings": 2},
                },
                name="e2e",
            )
            pointer = read_json(p.s3, p.bucket, storage_layout.CURRENT_MODEL_KEY)
            known = read_json(p.s3, p.bucket, storage_layout.VOCABULARY_KEY)
            manifest = read_json(p.s3, p.bucket, pointer["prefix"] + "manifest.json")
            report = read_json(p.s3, p.bucket, run_layout.promotion_report_key("e2e"))
            source = read_json(
                p.s3, p.bucket, run_layout.run_layer_key("e2e", "01_raw/source.json")
            )
        status, served = call(api, key, "GET", "/model")
    assert result.status == "SUCCEEDED", (result.error, result.cause, p.lines[-20:])
    collected = result.output["collect"]["output"]["result"]
    assert (collected["windows"], collected["events"]) == (1, 1)
    out = result.output["retrain"]["output"]["result"]
    assert out["promoted"] is True and out["previous_version"] is None
    assert pointer["version"] == out["candidate_version"] == manifest["version"]
    assert manifest["files"]["model.mpy"]["bytes"] <= report["budgets"]["model_mpy_bytes"]
    assert report["data_run_id"] == "e2e"  # the collect job of the same run filled the raw layer
    assert report["device_windows"] == 1
    assert source["raw_windows"] == {"used": 1}  # the device's window became training data
    assert 0 < report["candidate"]["scores"]["score"] <= 1
    assert status == 200 and served["version"] == out["candidate_version"]
    gestures = [c for c in manifest["classes"] if c != "idle"]
    assert known["versions"][pointer["version"]] == gestures  # published with its vocabulary
    assert set(known["gestures"]) == {"x", *gestures}
