"""`local_handlers/<name>.py --endpoint URL` runs the handler against the local cloud's storage."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

from localcloud.server import LocalCloud
from localcloud.stack import REPO


def sample_gestures() -> list[str]:
    """The gestures the sample batch (events/ingest/valid.json) names."""
    event = json.loads((REPO / "events" / "ingest" / "valid.json").read_text())
    return sorted({e["gesture"] for e in json.loads(event["body"])["events"]})


def write_release(folder: Path, classes: list[str]) -> Path:
    """A model folder knowing `classes`: POST /events accepts only published gestures."""
    folder.mkdir(parents=True)
    source = f"def score(input):\n    return {[1.0] + [0.0] * (len(classes) - 1)}\n".encode()
    (folder / "model.py").write_bytes(source)
    files = {"model.py": {"sha256": hashlib.sha256(source).hexdigest(), "bytes": len(source)}}
    manifest = {"schema": 1, "version": "20260101000000-00000001", "classes": classes}
    (folder / "manifest.json").write_text(json.dumps({**manifest, "files": files}))
    return folder


def test_a_local_handler_stores_into_the_local_cloud(tmp_path):
    with LocalCloud(port=0, pipeline=False) as cloud:
        cloud.publish_model(write_release(tmp_path / "model", ["idle", *sample_gestures()]))
        result = subprocess.run(
            [sys.executable, "local_handlers/ingest.py", "--endpoint", cloud.url],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr[-2000:]
        response = json.loads(result.stdout)
        assert response["statusCode"] == 200, response
        from functions import wiring

        stored = wiring.events().query_device(
            json.loads(response["body"])["device_id"], "0", "9", 100
        )
        assert len(stored) == json.loads(response["body"])["accepted"] > 0
