"""The local cloud's state survives a restart: devices, keys, events, telemetry, samples, models."""

from __future__ import annotations

import json
import threading
import time

from cloud_helpers import model_folder

from functions import wiring
from localcloud.server import LocalCloud
from localcloud.stack import REPO
from localcloud.state import SNAPSHOT, ReadWriteLock
from tests.cloud_http import call

NOW = int(time.time() * 1000)


def batch(*seqs, now=NOW):
    return {
        "events": [
            {"seq": s, "gesture": "x", "t_ms": now - 1000 * s, "score": 0.9, "model_version": "v"}
            for s in seqs
        ]
    }


def heartbeat() -> dict:
    sample = json.loads((REPO / "events" / "telemetry" / "valid.json").read_text())
    body = json.loads(sample["body"])
    body.pop("device_id", None)
    return body | {"t_ms": int(time.time() * 1000)}


def test_a_restart_keeps_everything_devices_posted(tmp_path):
    state = tmp_path / "state"
    with LocalCloud(port=0, state=state, pipeline=False) as cloud:
        key = cloud.add_device("dev-1")
        revoked = cloud.add_device("dev-2")
        cloud.keys.revoke("dev-2")
        assert call(cloud, "POST", "/events", key, batch(1))[0] == 400  # no gesture known yet
        cloud.publish_model(model_folder(tmp_path))
        assert call(cloud, "POST", "/events", key, batch(1, 2, 3))[0] == 200
        assert call(cloud, "POST", "/telemetry", key, heartbeat())[0] == 200
        dashboard_key = cloud.dashboard_key
    assert (state / SNAPSHOT).is_file()
    with LocalCloud(port=0, state=state, pipeline=False) as cloud:
        status, _, data = call(cloud, "GET", "/events", key)
        assert status == 200 and sorted(e["seq"] for e in json.loads(data)["items"]) == [1, 2, 3]
        assert call(cloud, "POST", "/events", revoked, batch(4))[0] == 403
        assert call(cloud, "GET", "/model", key)[2] and cloud.dashboard_key == dashboard_key
        status, headers, _ = call(cloud, "GET", "/model", key)
        assert headers["ETag"] == '"v5"'
        assert [t["device_id"] for t in wiring.telemetry().latest("dev-1")] == ["dev-1"]
        assert wiring.models().vocabulary() == {"x"}  # what devices may post survived too
        # a retried event after the restart is still stored once
        assert call(cloud, "POST", "/events", key, batch(3))[0] == 200
        assert len(json.loads(call(cloud, "GET", "/events", key)[2])["items"]) == 3


def test_changes_are_saved_within_seconds_without_a_clean_stop(tmp_path):
    state = tmp_path / "state"
    cloud = LocalCloud(port=0, state=state, pipeline=False, snapshot_interval_s=0.2)
    cloud.start()
    try:
        key = cloud.add_device("dev-1")
        cloud.publish_model(model_folder(tmp_path))
        assert call(cloud, "POST", "/events", key, batch(1))[0] == 200
        deadline = time.monotonic() + 10
        while cloud.keeper.snapshots < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        with open(state / SNAPSHOT, "rb") as f:  # as a killed process leaves it
            f.read(int.from_bytes(f.read(8), "big"))
            tables = [json.loads(line)[2] for line in f]
        assert tables.count("gesture-stack-local-events") == 1
    finally:
        cloud.stop()


def test_a_snapshot_waits_for_running_requests_and_blocks_new_ones():
    lock, order = ReadWriteLock(), []
    reading = threading.Event()

    def reader():
        with lock.shared():
            reading.set()
            time.sleep(0.2)
            order.append("read")

    thread = threading.Thread(target=reader)
    thread.start()
    reading.wait()
    with lock.exclusive():
        order.append("write")
    thread.join()
    assert order == ["read", "write"]
