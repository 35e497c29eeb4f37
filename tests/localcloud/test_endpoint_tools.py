"""`local_handlers/<name>.py --endpoint URL` runs the handler against the local cloud's storage."""

from __future__ import annotations

import json
import subprocess
import sys

from localcloud.server import LocalCloud
from localcloud.stack import REPO


def test_a_local_handler_stores_into_the_local_cloud(tmp_path):
    with LocalCloud(port=0, pipeline=False) as cloud:
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
