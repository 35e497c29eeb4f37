"""The firmware under micropython against the local API (real handlers over moto): OTA from the
published model, every event stored once, telemetry and captured windows accepted."""

import json
import time
import urllib.request

from fw_harness import (
    device_config,
    queued,
    run_firmware,
    write_rules_model,
    write_synthetic_recording,
)

from localcloud.server import LocalCloud

NEW = "20260303000000-0000a002"


def get_events(api, key, device_id, t0):
    url = f"{api.url}/events?device_id={device_id}&from={t0 - 1000}&to={t0 + 600_000}&limit=500"
    request = urllib.request.Request(url, headers={"x-api-key": key})
    with urllib.request.urlopen(request) as resp:
        return json.loads(resp.read())["items"]


def test_device_against_the_local_api(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    release = write_rules_model(tmp_path / "release", version=NEW)
    (release / "model.py").unlink()  # the release serves model.mpy; GET /model defaults to it
    t0 = int(time.time() * 1000) - 20_000  # the recording ends about now
    with LocalCloud(port=0) as api:
        key = api.add_device("dev-e2e")
        assert api.publish_model(release) == NEW
        config = device_config(tmp_path, api.url, recording, api_key=key, t0_ms=t0)
        config["capture"] = {"enabled": True, "near_miss": 0.4, "pre_ms": 1000, "post_ms": 500}
        result = run_firmware(config, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
        stored = get_events(api, key, "dev-e2e", t0)
    out = result.stdout
    assert f"gs-ota installed version={NEW}" in out, out
    assert "gs-retry" not in out, out  # every request was accepted the first time
    sent = queued(out)
    assert len(sent) >= 3
    got = sorted((e["seq"], e["gesture"], e["t_ms"]) for e in stored)
    assert got == sent
    # each event carries the model that detected it: the OTA download is cooperative (spread
    # over loop iterations), so an early event may still come from the first model
    running, expected = None, {}
    for line in out.splitlines():
        if line.startswith("gs-model version="):
            running = line.split("=", 1)[1]
        elif line.startswith("gs-queued"):
            expected[int(line.split()[1].split("=")[1])] = running
    assert {e["seq"]: e["model_version"] for e in stored} == expected
    assert expected[max(expected)] == NEW
    assert "/telemetry n=1" in out and "/samples n=1" in out, out
    assert "pending=0 dropped=0" in out
