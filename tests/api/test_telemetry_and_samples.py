"""POST /telemetry and POST /samples: heartbeats in DynamoDB, raw windows in the S3 raw layer."""

import json

from api_helpers import all_items, as_key, body, sample, with_body

from functions import samples, storage_layout, telemetry, wiring
from functions.settings import get_settings


def raw_objects() -> list[dict]:
    listing = wiring.s3().list_objects_v2(
        Bucket=get_settings().data_bucket, Prefix=storage_layout.RAW_SAMPLES_PREFIX
    )
    return listing.get("Contents", [])


def test_heartbeat_is_stored_once_per_device_time(aws, lambda_context):
    first = telemetry.handler(sample("telemetry/valid"), lambda_context)
    retry = telemetry.handler(sample("telemetry/duplicate"), lambda_context)
    assert first["statusCode"] == retry["statusCode"] == 200
    assert first["body"] == retry["body"]
    [item] = wiring.telemetry().latest("esp32-a01")
    assert item["acc_rms"] == {"x": 0.12, "y": 0.08, "z": 9.79}
    assert item["free_heap"] == 61_440 and item["queue_len"] == 2 and item["dropped"] == 0
    assert item["expires_at"] > 1_764_028_800


def test_bad_heartbeat_names_the_field_and_stores_nothing(aws, lambda_context):
    response = telemetry.handler(sample("telemetry/bad"), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == "free_heap"
    assert all_items(get_settings().telemetry_table) == []


def test_heartbeat_missing_an_axis_is_rejected(aws, lambda_context):
    event = sample("telemetry/valid")
    payload = json.loads(event["body"])
    del payload["acc_rms"]["z"]
    response = telemetry.handler(with_body(event, payload), lambda_context)
    assert body(response)["field"] == "acc_rms.z"


def test_window_lands_in_the_raw_layer_by_device_and_day(aws, lambda_context):
    response = samples.handler(sample("samples/valid"), lambda_context)
    assert response["statusCode"] == 200
    key = body(response)["key"]
    parts = storage_layout.parse_raw_sample_key(key)
    assert parts["device_id"] == "esp32-a01"
    assert parts["date"] == "2025-11-24"
    assert key.startswith(storage_layout.raw_samples_prefix("esp32-a01", "2025-11-24"))
    stored = json.loads(
        wiring.s3().get_object(Bucket=get_settings().data_bucket, Key=key)["Body"].read()
    )
    sent = json.loads(sample("samples/valid")["body"])
    assert stored["values"] == sent["values"]
    assert stored["signals"] == sent["signals"]
    assert stored["label"] == "circle" and stored["device_id"] == "esp32-a01"


def test_retried_window_is_one_object(aws, lambda_context):
    first = samples.handler(sample("samples/valid"), lambda_context)
    retry = samples.handler(sample("samples/duplicate"), lambda_context)
    assert first["body"] == retry["body"]
    assert len(raw_objects()) == 1


def test_different_windows_get_different_keys(aws, lambda_context):
    event = sample("samples/valid")
    payload = json.loads(event["body"])
    samples.handler(event, lambda_context)
    payload["values"][0][0] += 1
    samples.handler(with_body(event, payload), lambda_context)
    assert len(raw_objects()) == 2


def test_ragged_window_is_rejected_and_nothing_written(aws, lambda_context):
    response = samples.handler(sample("samples/bad"), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == "values"
    assert raw_objects() == []


def test_samples_cannot_be_written_as_another_device(aws, lambda_context):
    event = sample("samples/valid")
    payload = json.loads(event["body"]) | {"device_id": "esp32-b02"}
    response = samples.handler(with_body(event, payload), lambda_context)
    assert response["statusCode"] == 403
    assert samples.handler(as_key(event, None), lambda_context)["statusCode"] == 403
    assert raw_objects() == []


def test_values_too_small_for_dynamodb_are_stored_as_zero(aws, lambda_context):
    # found by the fuzz test: DynamoDB rejects magnitudes below 1e-130 (was a 5xx)
    event = sample("telemetry/valid")
    payload = json.loads(event["body"])
    payload["acc_rms"]["z"] = 5e-324
    response = telemetry.handler(with_body(event, payload), lambda_context)
    assert response["statusCode"] == 200
    [item] = wiring.telemetry().latest("esp32-a01")
    assert item["acc_rms"]["z"] == 0


def test_heartbeat_reports_the_running_models_gestures_even_new_ones(aws, lambda_context):
    event = sample("telemetry/valid")
    payload = json.loads(event["body"]) | {"gestures": ["circle", "shake", "x", "y"]}
    response = telemetry.handler(with_body(event, payload), lambda_context)
    assert response["statusCode"] == 200, response["body"]
    [item] = wiring.telemetry().latest("esp32-a01")
    assert item["gestures"] == ["circle", "shake", "x", "y"]  # a list survives DynamoDB
    payload["gestures"] = ["Not A Name"]
    response = telemetry.handler(with_body(event, payload), lambda_context)
    assert response["statusCode"] == 400 and body(response)["field"].startswith("gestures")


def test_heartbeat_reports_model_faults_and_rejected_versions(aws, lambda_context):
    event = sample("telemetry/valid")
    payload = json.loads(event["body"])
    payload |= {"model_errors": 7, "model_rejected": ["20260202000000-0000a001"]}
    response = telemetry.handler(with_body(event, payload), lambda_context)
    assert response["statusCode"] == 200, response
    [item] = wiring.telemetry().latest("esp32-a01")
    assert item["model_errors"] == 7 and item["model_rejected"] == ["20260202000000-0000a001"]


def test_heartbeat_with_a_malformed_rejected_version_is_refused(aws, lambda_context):
    event = sample("telemetry/valid")
    payload = json.loads(event["body"]) | {"model_rejected": ["a:b"]}
    response = telemetry.handler(with_body(event, payload), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"].startswith("model_rejected")


def test_heartbeat_reports_the_firmware_and_what_the_device_could_not_keep(aws, lambda_context):
    event = sample("telemetry/valid")
    payload = json.loads(event["body"])
    payload |= {"firmware_version": "0.2.0", "dropped": 5, "dropped_full": 4, "dead_evicted": 3}
    response = telemetry.handler(with_body(event, payload), lambda_context)
    assert response["statusCode"] == 200, response
    [item] = wiring.telemetry().latest("esp32-a01")
    assert item["firmware_version"] == "0.2.0"
    assert (item["dropped"], item["dropped_full"], item["dead_evicted"]) == (5, 4, 3)
    for field, bad in (("firmware_version", "1.0/x"), ("dropped_full", -1)):
        response = telemetry.handler(with_body(event, payload | {field: bad}), lambda_context)
        assert response["statusCode"] == 400 and body(response)["field"] == field
