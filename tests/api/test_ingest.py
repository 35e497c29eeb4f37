"""POST /events: stored exactly once, validated, and only as the key's own device."""

import pytest
from api_helpers import SAMPLE_NOW_MS, all_items, as_key, body, sample, with_body

from functions import ingest
from functions.settings import get_settings


def events_table() -> str:
    return get_settings().events_table


def batch(*seqs, gesture="circle", t0=SAMPLE_NOW_MS - 60_000):
    return {
        "events": [
            {"seq": s, "gesture": gesture, "t_ms": t0 + s, "score": 0.8, "model_version": "v1"}
            for s in seqs
        ]
    }


def test_valid_batch_is_stored_under_the_keys_device(aws, lambda_context):
    response = ingest.handler(sample("ingest/valid"), lambda_context)
    assert response["statusCode"] == 200
    assert body(response) == {
        "device_id": "esp32-a01",
        "accepted": 3,
        "first_seq": 100,
        "last_seq": 102,
    }
    items = all_items(events_table())
    assert sorted(int(i["seq"]["N"]) for i in items) == [100, 101, 102]
    assert {i["device_id"]["S"] for i in items} == {"esp32-a01"}
    assert sorted(i["gesture"]["S"] for i in items) == ["circle", "x", "y"]
    assert {i["day"]["S"] for i in items} == {"2025-11-24"}


def test_retried_batch_is_stored_once_and_gets_the_same_answer(aws, lambda_context):
    first = ingest.handler(sample("ingest/valid"), lambda_context)
    retry = ingest.handler(sample("ingest/duplicate"), lambda_context)
    assert retry["statusCode"] == first["statusCode"] == 200
    assert retry["body"] == first["body"]
    assert len(all_items(events_table())) == 3


def test_partly_stored_batch_stores_only_the_new_events(aws, lambda_context, dynamodb_calls):
    event = sample("ingest/valid")
    ingest.handler(with_body(event, batch(1, 2)), lambda_context)
    response = ingest.handler(with_body(event, batch(1, 2, 3, 4)), lambda_context)
    assert body(response)["accepted"] == 4
    items = all_items(events_table())
    assert sorted(int(i["seq"]["N"]) for i in items) == [1, 2, 3, 4]
    # first batch: 1 transaction; second: 1 cancelled + 1 for the two new events
    assert dynamodb_calls.writes == ["TransactWriteItems"] * 3


def test_a_25_event_batch_is_one_write_request(aws, lambda_context, dynamodb_calls):
    response = ingest.handler(with_body(sample("ingest/valid"), batch(*range(25))), lambda_context)
    assert body(response)["accepted"] == 25
    assert dynamodb_calls.writes == ["TransactWriteItems"]
    assert len(all_items(events_table())) == 25


def test_the_largest_batch_of_100_is_accepted(aws, lambda_context):
    response = ingest.handler(with_body(sample("ingest/valid"), batch(*range(100))), lambda_context)
    assert response["statusCode"] == 200
    assert len(all_items(events_table())) == 100


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("ingest/bad-gesture", "events[0].gesture"),
        ("ingest/bad-duplicate-seq", "events"),
        ("ingest/bad-too-old", "events[0].t_ms"),
        ("ingest/bad-json", "body"),
        ("ingest/bad-empty", "events"),
    ],
)
def test_bad_sample_events_are_rejected_naming_the_field(aws, lambda_context, name, field):
    response = ingest.handler(sample(name), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == field
    assert all_items(events_table()) == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"seq": "7"}, "events[1].seq"),
        ({"seq": -1}, "events[1].seq"),
        ({"score": 1.5}, "events[1].score"),
        ({"score": True}, "events[1].score"),
        ({"t_ms": SAMPLE_NOW_MS + 3_600_000}, "events[1].t_ms"),
        ({"model_version": ""}, "events[1].model_version"),
        ({"color": "red"}, "events[1].color"),
    ],
)
def test_one_bad_event_rejects_the_whole_batch(aws, lambda_context, change, field):
    payload = batch(1, 2, 3)
    payload["events"][1].update(change)
    response = ingest.handler(with_body(sample("ingest/valid"), payload), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == field
    assert all_items(events_table()) == []


def test_more_than_100_events_is_rejected(aws, lambda_context):
    response = ingest.handler(with_body(sample("ingest/valid"), batch(*range(101))), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == "events"


def test_a_body_over_256_kb_is_rejected_before_parsing(aws, lambda_context):
    response = ingest.handler(
        with_body(sample("ingest/valid"), " " * (256 * 1024 + 1)), lambda_context
    )
    assert response["statusCode"] == 413
    assert body(response)["field"] == "body"


def test_a_device_cannot_write_as_another_device(aws, lambda_context):
    response = ingest.handler(sample("ingest/forbidden-other-device"), lambda_context)
    assert response["statusCode"] == 403
    assert body(response)["field"] == "device_id"
    assert all_items(events_table()) == []


@pytest.mark.parametrize("key_id", [None, "", "k0unknown0"])
def test_unknown_or_missing_key_is_forbidden(aws, lambda_context, key_id):
    response = ingest.handler(as_key(sample("ingest/valid"), key_id), lambda_context)
    assert response["statusCode"] == 403
    assert all_items(events_table()) == []


def test_the_dashboard_key_cannot_write_events(aws, lambda_context):
    response = ingest.handler(as_key(sample("ingest/valid"), "k1dashbrd0"), lambda_context)
    assert response["statusCode"] == 403
