"""Every request body the firmware sends validates against the API's OpenAPI document
(functions/openapi.json, generated from the API's pydantic models)."""

import json

import jsonschema
from fw_fake_api import FakeApi
from fw_harness import REPO, device_config, run_firmware, write_synthetic_recording
from gesture.spec import FIRMWARE_VERSION


def request_validator(spec: dict, method: str, path: str):
    schema = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    document = {**schema, "components": spec["components"]}
    return jsonschema.Draft202012Validator(document)


def test_events_telemetry_and_samples_match_the_openapi_document(tmp_path):
    spec = json.loads((REPO / "functions" / "openapi.json").read_text())
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    with FakeApi() as api:
        config = device_config(tmp_path, api.url, recording, telemetry_period_s=5)
        config["capture"] = {"enabled": True, "near_miss": 0.4, "pre_ms": 1000, "post_ms": 500}
        result = run_firmware(config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    seen = {path for path, _ in api.bodies}
    assert seen == {"/events", "/telemetry", "/samples"}, seen
    for path, body in api.bodies:
        errors = list(request_validator(spec, "post", path).iter_errors(body))
        assert not errors, (path, [e.message for e in errors[:3]])
    # every heartbeat names the firmware, from its one home (gesture.spec)
    beats = [body for path, body in api.bodies if path == "/telemetry"]
    assert beats and all(b["firmware_version"] == FIRMWARE_VERSION for b in beats)
