"""GET /devices, /events/counts, /models: the dashboard's read views (dashboard key only)."""

import dataclasses
import json
from collections import Counter

import pytest
from api_helpers import SAMPLE_NOW_MS, as_key, body, sample, with_body, with_query

from functions import counts, devices, ingest, releases, storage_layout, telemetry, wiring
from functions.adapters.device_keys import DeviceKeys
from functions.domain.devices import Device
from functions.domain.query import TimeRange
from functions.settings import get_settings

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
DEVICE_KEYS = {"esp32-a01": "k1esp32a01", "esp32-b02": "k1esp32b02"}
GESTURES = ("circle", "x", "y")


def store(lambda_context, device_id, times, gestures=GESTURES):
    """Post events at `times` as the device, gestures in turn; the stored (gesture) counts."""
    events = [
        {"seq": i, "gesture": gestures[i % len(gestures)], "t_ms": t, "score": 0.8,
         "model_version": "v1"}
        for i, t in enumerate(times)
    ]  # fmt: skip
    event = as_key(sample("ingest/valid"), DEVICE_KEYS[device_id])
    for start in range(0, len(events), 100):
        batch = {"events": events[start : start + 100]}
        response = ingest.handler(with_body(event, batch), lambda_context)
        assert response["statusCode"] == 200, response["body"]
    return Counter(e["gesture"] for e in events)


def beat(lambda_context, device_id, t_ms, **fields):
    heartbeat = json.loads(sample("telemetry/valid")["body"]) | {"t_ms": t_ms} | fields
    event = as_key(sample("telemetry/valid"), DEVICE_KEYS[device_id])
    response = telemetry.handler(with_body(event, heartbeat), lambda_context)
    assert response["statusCode"] == 200, response["body"]


def call(handler, name, lambda_context, **params):
    response = handler(with_query(sample(name), **params), lambda_context)
    return response["statusCode"], body(response)


@pytest.mark.parametrize(
    ("handler", "name"),
    [(devices.handler, "devices"), (counts.handler, "counts"), (releases.handler, "releases")],
)
def test_a_device_key_gets_403_with_a_message(aws, lambda_context, handler, name):
    response = handler(sample(f"{name}/forbidden-device-key"), lambda_context)
    assert response["statusCode"] == 403
    assert "dashboard key" in body(response)["message"]
    assert handler(sample(f"{name}/valid"), lambda_context)["statusCode"] == 200


def test_devices_lists_each_device_once_with_its_newest_heartbeat(
    aws, lambda_context, dynamodb_calls
):
    wiring.devices().register("k2esp32a01", Device("esp32-a01"))  # a rotated key
    beat(lambda_context, "esp32-a01", SAMPLE_NOW_MS - 60_000, free_heap=1000, dropped=3)
    beat(lambda_context, "esp32-a01", SAMPLE_NOW_MS - 10_000, free_heap=2000, dropped=4)
    beat(lambda_context, "esp32-a01", SAMPLE_NOW_MS - 30_000, free_heap=3000, dropped=5)
    status, answer = call(devices.handler, "devices/valid", lambda_context)
    assert status == 200
    assert [d["device_id"] for d in answer["items"]] == ["esp32-a01", "esp32-b02"]
    a01, b02 = answer["items"]
    assert a01["keys"] == 2
    assert a01["health"]["t_ms"] == SAMPLE_NOW_MS - 10_000
    assert (a01["health"]["free_heap"], a01["health"]["dropped"]) == (2000, 4)
    assert a01["health"]["acc_rms"] == {"x": 0.12, "y": 0.08, "z": 9.79}
    assert b02["health"] is None
    assert "Scan" not in dynamodb_calls.calls


def provisioned() -> DeviceKeys:
    """`gesture-stack devices` against the stage's usage plan and devices table (moto)."""
    import boto3

    apigw = boto3.client("apigateway", region_name=get_settings().region)
    plan = apigw.create_usage_plan(name="plan")["id"]
    return DeviceKeys(apigw, wiring.dynamodb(), get_settings().devices_table, plan, "test")


def test_revoked_devices_are_left_out_unless_asked_for_and_then_say_so(aws, lambda_context):
    keys = provisioned()
    keys.add("esp32-c03")
    keys.add("esp32-d04")
    keys.rotate("esp32-d04")  # its old key is revoked, the device is not
    keys.revoke("esp32-c03")
    _, answer = call(devices.handler, "devices/valid", lambda_context)
    listed = {d["device_id"]: d for d in answer["items"]}
    assert sorted(listed) == ["esp32-a01", "esp32-b02", "esp32-d04"]
    assert not any(d["revoked"] for d in listed.values())
    assert listed["esp32-d04"]["keys"] == 2
    status, answer = call(devices.handler, "devices/valid", lambda_context, include_revoked="true")
    assert status == 200
    listed = {d["device_id"]: d["revoked"] for d in answer["items"]}
    assert listed == {"esp32-a01": False, "esp32-b02": False, "esp32-c03": True, "esp32-d04": False}
    status, answer = call(devices.handler, "devices/valid", lambda_context, include_revoked="maybe")
    assert status == 400 and answer["field"] == "include_revoked"


def test_a_device_revoked_before_revoked_at_existed_leaves_the_list_when_revoked_again(
    aws, lambda_context
):
    keys = provisioned()
    record = keys.add("esp32-c03")
    wiring.dynamodb().update_item(  # revoked by an older version: disabled, nothing noted
        TableName=get_settings().devices_table,
        Key={"api_key_id": {"S": record.api_key_id}},
        UpdateExpression="REMOVE revoked_at",
    )
    keys._apigw.update_api_key(
        apiKey=record.api_key_id,
        patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}],
    )

    def listed() -> list[str]:
        _, answer = call(devices.handler, "devices/valid", lambda_context)
        return [d["device_id"] for d in answer["items"]]

    assert "esp32-c03" in listed()  # what the READMEs warn about
    [was] = keys.revoke("esp32-c03")
    assert was.api_key_id == record.api_key_id and not was.enabled
    assert "esp32-c03" not in listed()


def test_devices_shows_fields_newer_firmware_sends_when_stored(aws, lambda_context):
    record = {"device_id": "esp32-b02", "t_ms": SAMPLE_NOW_MS, "auth_failures": 2,
              "dead_letters": 1, "firmware_version": "1.4.0"}  # fmt: skip
    wiring.telemetry().put(record)
    _, answer = call(devices.handler, "devices/valid", lambda_context)
    health = answer["items"][1]["health"]
    assert (health["auth_failures"], health["dead_letters"]) == (2, 1)
    assert health["firmware_version"] == "1.4.0"
    assert health["free_heap"] is None


def test_counts_per_device_and_gesture_equal_what_is_stored(aws, lambda_context, dynamodb_calls):
    start = SAMPLE_NOW_MS - 3 * HOUR_MS
    stored_a = store(lambda_context, "esp32-a01", [start + k * 61_000 for k in range(130)])
    stored_b = store(lambda_context, "esp32-b02", [start + k * 97_000 for k in range(40)], ("x",))
    status, answer = call(
        counts.handler, "counts/valid", lambda_context, **{"from": start, "to": SAMPLE_NOW_MS}
    )
    assert status == 200 and answer["complete"]
    totals = {(s["device_id"], s["gesture"]): s["total"] for s in answer["series"]}
    expected = {("esp32-a01", g): n for g, n in stored_a.items()}
    expected |= {("esp32-b02", g): n for g, n in stored_b.items()}
    assert totals == expected
    assert answer["events"] == 170
    for series in answer["series"]:
        assert sum(series["counts"]) == series["total"]
        assert len(series["counts"]) == len(answer["buckets"])
    assert answer["bucket_ms"] == 5 * 60_000  # 3 h in at most 120 buckets
    assert "Scan" not in dynamodb_calls.calls


def test_counts_put_each_event_in_its_bucket_and_leave_out_the_range_edges(aws, lambda_context):
    base = SAMPLE_NOW_MS - 2 * HOUR_MS
    store(
        lambda_context,
        "esp32-a01",
        [base - 1, base, base + 59_999, base + 60_000, base + HOUR_MS + 1],
    )
    _, answer = call(
        counts.handler, "counts/valid", lambda_context, **{"from": base, "to": base + HOUR_MS}
    )
    assert answer["bucket_ms"] == 60_000
    assert answer["buckets"][0] == base
    by_gesture = {s["gesture"]: s["counts"] for s in answer["series"]}
    # circle at base - 1 (outside) and base + 60_000; x at base; y at base + 59_999
    assert by_gesture["circle"][:2] == [0, 1]
    assert by_gesture["x"][0] == 1 and by_gesture["y"][0] == 1
    assert answer["events"] == 3


def test_counts_span_several_days_and_filter_one_device(aws, lambda_context):
    times = [SAMPLE_NOW_MS - k * 7 * HOUR_MS for k in range(1, 15)]  # about four UTC days
    stored = store(lambda_context, "esp32-a01", times)
    store(lambda_context, "esp32-b02", times[:3])
    span = {"from": SAMPLE_NOW_MS - 5 * DAY_MS, "to": SAMPLE_NOW_MS}
    _, fleet = call(counts.handler, "counts/valid", lambda_context, **span)
    assert fleet["events"] == 17
    _, one = call(counts.handler, "counts/valid", lambda_context, device_id="esp32-a01", **span)
    assert {s["gesture"]: s["total"] for s in one["series"]} == dict(stored)
    assert {s["device_id"] for s in one["series"]} == {"esp32-a01"}


def test_counts_say_when_the_range_held_more_than_one_answer_counts(
    aws, lambda_context, monkeypatch
):
    store(lambda_context, "esp32-a01", [SAMPLE_NOW_MS - k * 1000 for k in range(1, 31)])
    settings = dataclasses.replace(get_settings(), max_counted_events=20)
    monkeypatch.setattr(counts, "get_settings", lambda: settings)
    _, answer = call(counts.handler, "counts/valid", lambda_context)
    assert answer["complete"] is False
    assert answer["events"] == 20


@pytest.mark.parametrize(
    "params",
    [{"from": SAMPLE_NOW_MS, "to": 0}, {"from": 0, "to": SAMPLE_NOW_MS}, {"device_id": "a b"}],
)
def test_counts_reject_a_bad_range_with_400_naming_the_field(aws, lambda_context, params):
    status, answer = call(counts.handler, "counts/valid", lambda_context, **params)
    assert status == 400
    assert answer["field"] in ("from", "device_id")


def put_json(key: str, document: dict) -> None:
    bucket = get_settings().data_bucket
    wiring.s3().put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode())


def publish(version: str, created: str) -> None:
    key = storage_layout.model_file_key(version, storage_layout.MANIFEST_NAME)
    put_json(key, {"version": version, "created": created})


def run_records(run_id: str, *, events=None, promoted=None, version=None, reason=None):
    if events is not None:
        put_json(
            storage_layout.run_record_key(run_id, storage_layout.RUN_RAW_MANIFEST),
            {"run_id": run_id, "events": {"count": events}, "windows": {"count": 2 * events}},
        )
    if promoted is not None:
        put_json(
            storage_layout.run_record_key(run_id, storage_layout.RUN_PROMOTION_REPORT),
            {"run_id": run_id, "promoted": promoted, "reason": reason,
             "candidate": {"version": version, "score": 0.9}},
        )  # fmt: skip


def test_models_say_when_and_why_each_version_was_promoted(aws, lambda_context):
    publish("v1", "2025-11-20T09:30:00+00:00")  # published directly, no pipeline record
    run_records("run-a", events=12, promoted=True, version="v2", reason="candidate scores more")
    publish("v2", "2025-11-21T09:30:00+00:00")
    put_json(storage_layout.CURRENT_MODEL_KEY, storage_layout.current_pointer("v2"))
    run_records("run-b", events=30, promoted=False, version="v3", reason="candidate scores less")
    run_records("run-c")  # started, nothing written yet: not listed (no folder)
    run_records("run-d", events=5)  # collected only
    status, answer = call(releases.handler, "releases/valid", lambda_context)
    assert status == 200
    assert answer["current"] == "v2"
    versions = {v["version"]: v for v in answer["versions"]}
    assert set(versions) == {"v1", "v2"}
    assert versions["v2"]["current"] and not versions["v1"]["current"]
    assert versions["v2"]["run_id"] == "run-a"
    assert versions["v2"]["reason"] == "candidate scores more"
    assert versions["v2"]["created"] == "2025-11-21T09:30:00+00:00"
    assert versions["v1"]["reason"] is None and versions["v1"]["published_at"]
    runs = {r["run_id"]: r for r in answer["runs"]}
    assert set(runs) == {"run-a", "run-b", "run-d"}
    assert runs["run-b"]["promoted"] is False
    assert runs["run-b"]["reason"] == "candidate scores less"
    assert runs["run-b"]["collected_events"] == 30
    assert runs["run-d"]["promoted"] is None and runs["run-d"]["collected_windows"] == 10
    assert all(r["time"] for r in answer["runs"])


def test_models_before_anything_was_promoted(aws, lambda_context):
    status, answer = call(releases.handler, "releases/valid", lambda_context)
    assert status == 200
    assert answer == {"current": None, "versions": [], "runs": []}


def test_models_list_at_most_the_newest_runs(aws, lambda_context, monkeypatch):
    for k in range(5):
        run_records(f"run-{k}", events=k)
    settings = dataclasses.replace(get_settings(), max_listed_runs=3)
    monkeypatch.setattr(releases, "get_settings", lambda: settings)
    _, answer = call(releases.handler, "releases/valid", lambda_context)
    assert len(answer["runs"]) == 3


def test_bucket_size_keeps_a_range_within_the_bucket_limit():
    from functions.domain import counts as domain

    for hours in (1, 2, 3, 24, 7 * 24, 30 * 24):
        span = TimeRange(0, hours * HOUR_MS)
        size = domain.bucket_size(span)
        starts = domain.bucket_starts(span, size)
        assert len(starts) <= domain.MAX_BUCKETS + 1
        assert starts[0] <= span.from_ms and starts[-1] + size > span.to_ms


def test_models_read_the_same_when_s3_denies_a_missing_key(
    aws, lambda_context, without_list_rights
):
    """A run without a promotion report, no current model: S3 may answer those keys 403 instead
    of 404 (data_bucket.get_if_present); GET /models answers as it does with 404."""
    publish("v1", "2025-11-20T09:30:00+00:00")
    run_records("run-d", events=5)  # collected only: no promotion report
    run_records("run-e", promoted=False, version="v2", reason="candidate scores less")  # no raw
    answers = []
    for deny in (False, True):
        wiring.reset()  # a new warm Lambda: nothing kept
        if deny:
            without_list_rights(wiring.s3())
        answers.append(call(releases.handler, "releases/valid", lambda_context))
    assert answers[0] == answers[1] and answers[1][0] == 200
    report = storage_layout.run_record_key("run-d", storage_layout.RUN_PROMOTION_REPORT)
    assert report in without_list_rights.denied
    assert {r["run_id"] for r in answers[1][1]["runs"]} == {"run-d", "run-e"}
