"""POST /events: stored exactly once, validated, and only as the key's own device."""

import json

import pytest
from api_helpers import SAMPLE_NOW_MS, all_items, as_key, body, sample, with_body

from functions import ingest
from functions.domain.events import fleet_shard
from functions.settings import get_settings


def events_table() -> str:
    return get_settings().events_table


def stored_items() -> list[dict]:
    """The stored events (not the id marker items next to them)."""
    return [i for i in all_items(get_settings().events_table) if "gesture" in i]


def markers() -> list[dict]:
    return [i for i in all_items(get_settings().events_table) if "gesture" not in i]


def batch(*seqs, gesture="circle", t0=SAMPLE_NOW_MS - 60_000, boot=None):
    """Events as firmware sends them: with boot, ids "<boot>-<seq>"; without, the legacy form."""
    events = [
        {"seq": s, "gesture": gesture, "t_ms": t0 + s, "score": 0.8, "model_version": "v1"}
        for s in seqs
    ]
    if boot is not None:
        events = [{"id": f"{boot}-{e['seq']}", **e} for e in events]
    return {"events": events}


def test_valid_batch_is_stored_under_the_keys_device(aws, lambda_context):
    response = ingest.handler(sample("ingest/valid"), lambda_context)
    assert response["statusCode"] == 200
    assert body(response) == {
        "device_id": "esp32-a01",
        "accepted": 3,
        "first_seq": 100,
        "last_seq": 102,
        "ids": ["7-100", "7-101", "7-102"],
        "duplicates": [],
    }
    items = stored_items()
    assert sorted(int(i["seq"]["N"]) for i in items) == [100, 101, 102]
    assert {i["device_id"]["S"] for i in items} == {"esp32-a01"}
    assert sorted(i["gesture"]["S"] for i in items) == ["circle", "x", "y"]
    assert {i["day"]["S"] for i in items} == {"2025-11-24"}
    assert {i["fleet_part"]["S"] for i in items} == {f"2025-11-24#{fleet_shard('esp32-a01'):02d}"}
    assert sorted(m["event_key"]["S"] for m in markers()) == ["id#7-100", "id#7-101", "id#7-102"]


def same(*ids_seqs):
    return [{"seq": seq, "id": id_, "content": "same"} for id_, seq in ids_seqs]


def test_retried_batch_is_stored_once_and_the_answer_names_the_duplicates(aws, lambda_context):
    first = ingest.handler(sample("ingest/valid"), lambda_context)
    retry = ingest.handler(sample("ingest/duplicate"), lambda_context)
    assert retry["statusCode"] == first["statusCode"] == 200
    assert body(first)["duplicates"] == []
    # what the device checks (accepted, first/last seq, ids) is what the first answer said
    assert body(retry) == body(first) | {
        "duplicates": same(("7-100", 100), ("7-101", 101), ("7-102", 102))
    }
    assert len(stored_items()) == 3


def test_an_old_firmware_batch_without_ids_is_still_stored_once(aws, lambda_context):
    first = ingest.handler(sample("ingest/legacy"), lambda_context)
    retry = ingest.handler(sample("ingest/legacy"), lambda_context)
    assert first["statusCode"] == retry["statusCode"] == 200
    answer = {"device_id": "esp32-a01", "accepted": 3, "first_seq": 100, "last_seq": 102}
    assert body(first) == answer | {"ids": [], "duplicates": []}
    assert body(retry) == answer | {
        "ids": [],
        "duplicates": same((None, 100), (None, 101), (None, 102)),
    }
    assert sorted(int(i["seq"]["N"]) for i in stored_items()) == [100, 101, 102]


@pytest.mark.parametrize(
    "change",
    [{"gesture": "x"}, {"score": 0.5}, {"model_version": "v2"}, {"seq": 9}],
    ids=["gesture", "score", "model_version", "seq"],
)
def test_a_resend_with_other_content_keeps_the_stored_copy_and_says_so(aws, lambda_context, change):
    event = sample("ingest/valid")
    ingest.handler(with_body(event, batch(1, 2, boot=4)), lambda_context)
    resend = batch(1, 2, boot=4)
    resend["events"][1].update(change)
    response = ingest.handler(with_body(event, resend), lambda_context)
    assert response["statusCode"] == 200
    answer = body(response)
    assert answer["ids"] == ["4-1", "4-2"] and answer["accepted"] == 2  # the device may drop it
    seq = resend["events"][1]["seq"]
    assert answer["duplicates"] == [
        *same(("4-1", 1)),
        {"seq": seq, "id": "4-2", "content": "different"},
    ]
    stored = {i["id"]["S"]: i for i in stored_items()}
    assert len(stored) == 2 and stored["4-2"]["gesture"]["S"] == "circle"
    assert float(stored["4-2"]["score"]["N"]) == 0.8 and int(stored["4-2"]["seq"]["N"]) == 2


def test_a_legacy_resend_with_other_content_keeps_the_stored_copy_and_says_so(aws, lambda_context):
    event = sample("ingest/valid")
    ingest.handler(with_body(event, batch(1, 2)), lambda_context)
    resend = batch(1, 2, 3)
    resend["events"][0]["gesture"] = "y"
    answer = body(ingest.handler(with_body(event, resend), lambda_context))
    assert answer["accepted"] == 3
    assert answer["duplicates"] == [
        {"seq": 1, "id": None, "content": "different"},
        *same((None, 2)),
    ]
    assert sorted(i["gesture"]["S"] for i in stored_items()) == ["circle"] * 3


def test_an_unresolved_event_resent_later_is_the_same_content(aws, lambda_context):
    """Its t_ms is the time received, so a resend differs there and nowhere else."""
    first = ingest.handler(sample("ingest/unresolved-clock"), lambda_context)
    later = sample("ingest/unresolved-clock")
    later["requestContext"]["requestTimeEpoch"] += 5_000
    answer = body(ingest.handler(later, lambda_context))
    assert body(first)["duplicates"] == []
    assert [d["content"] for d in answer["duplicates"]] == ["same", "same"]


def test_a_retry_whose_times_moved_is_stored_once_by_id(aws, lambda_context):
    """The device fixed its clock between the stored batch and the retry: same ids, new t_ms;
    the stored copy (first times) is kept and the answer says the times differ."""
    event = sample("ingest/valid")
    first = ingest.handler(with_body(event, batch(1, 2, 3, boot=4)), lambda_context)
    moved = ingest.handler(
        with_body(event, batch(1, 2, 3, boot=4, t0=SAMPLE_NOW_MS - 57_000)), lambda_context
    )
    assert body(moved)["ids"] == body(first)["ids"] == ["4-1", "4-2", "4-3"]
    assert [d["content"] for d in body(moved)["duplicates"]] == ["different"] * 3
    items = stored_items()
    assert sorted(int(i["t_ms"]["N"]) for i in items) == [
        SAMPLE_NOW_MS - 60_000 + s for s in (1, 2, 3)
    ]


def test_the_same_seq_in_another_boot_is_another_event(aws, lambda_context):
    event = sample("ingest/valid")
    ingest.handler(with_body(event, batch(1, boot=4)), lambda_context)
    response = ingest.handler(
        with_body(event, batch(1, boot=5, t0=SAMPLE_NOW_MS - 30_000)), lambda_context
    )
    assert body(response)["ids"] == ["5-1"]
    assert len(stored_items()) == 2


def test_an_event_whose_time_could_not_be_resolved_is_stored_flagged(aws, lambda_context):
    response = ingest.handler(sample("ingest/unresolved-clock"), lambda_context)
    assert response["statusCode"] == 200, response["body"]
    assert body(response)["ids"] == ["6-90", "7-103"]
    items = {i["id"]["S"]: i for i in stored_items() if "gesture" in i}
    flagged = items["6-90"]
    assert flagged["clock"]["S"] == "unresolved" and int(flagged["boot_ms"]["N"]) == 41_250
    assert int(flagged["t_ms"]["N"]) == SAMPLE_NOW_MS  # stored at the time received
    assert items["7-103"]["clock"]["S"] == "synced"


@pytest.mark.parametrize(
    "change",
    [{"t_ms": None}, {"clock": "unresolved"}, {"clock": "late"}],
    ids=["synced-without-t_ms", "unresolved-with-t_ms", "unknown-clock"],
)
def test_the_clock_flag_and_t_ms_must_agree(aws, lambda_context, change):
    payload = batch(1, 2, boot=3)
    payload["events"][1].update(change)
    response = ingest.handler(with_body(sample("ingest/valid"), payload), lambda_context)
    assert response["statusCode"] == 400
    assert [e["index"] for e in body(response)["errors"]] == [1]


def test_a_batch_with_bad_events_names_each_of_them_and_stores_none(aws, lambda_context):
    response = ingest.handler(sample("ingest/bad-some-events"), lambda_context)
    assert response["statusCode"] == 400
    answer = body(response)
    assert answer["error"] == "invalid_input" and answer["message"]
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [
        (3, "events[3].gesture")
    ]  # schema errors first; the time check runs on a batch that parsed
    assert stored_items() == []
    payload = json.loads(sample("ingest/bad-some-events")["body"])
    payload["events"][3]["gesture"] = "x"
    response = ingest.handler(with_body(sample("ingest/valid"), payload), lambda_context)
    assert response["statusCode"] == 400
    assert [(e["index"], e["field"]) for e in body(response)["errors"]] == [(1, "events[1].t_ms")]
    assert "days old" in body(response)["errors"][0]["message"]


def test_a_whole_batch_fault_has_no_per_event_errors(aws, lambda_context):
    response = ingest.handler(sample("ingest/bad-duplicate-seq"), lambda_context)
    assert response["statusCode"] == 400 and body(response)["errors"] is None


def test_a_100_event_batch_with_ids_is_stored_once(aws, lambda_context, dynamodb_calls):
    event = with_body(sample("ingest/valid"), batch(*range(100), boot=2))
    first = ingest.handler(event, lambda_context)
    retry = ingest.handler(event, lambda_context)
    assert body(first) | {"duplicates": []} == body(retry) | {"duplicates": []}
    assert len(body(first)["ids"]) == 100 and len(body(retry)["duplicates"]) == 100
    assert len(stored_items()) == 100
    # a marker item per event: 200 items, two transactions a try
    assert dynamodb_calls.writes == ["TransactWriteItems"] * 4


def test_partly_stored_batch_stores_only_the_new_events(aws, lambda_context, dynamodb_calls):
    event = sample("ingest/valid")
    ingest.handler(with_body(event, batch(1, 2)), lambda_context)
    response = ingest.handler(with_body(event, batch(1, 2, 3, 4)), lambda_context)
    assert body(response)["accepted"] == 4
    items = stored_items()
    assert sorted(int(i["seq"]["N"]) for i in items) == [1, 2, 3, 4]
    # first batch: 1 transaction; second: 1 cancelled + 1 for the two new events
    assert dynamodb_calls.writes == ["TransactWriteItems"] * 3


def test_a_25_event_batch_is_one_write_request(aws, lambda_context, dynamodb_calls):
    response = ingest.handler(with_body(sample("ingest/valid"), batch(*range(25))), lambda_context)
    assert body(response)["accepted"] == 25
    assert dynamodb_calls.writes == ["TransactWriteItems"]
    assert len(stored_items()) == 25


def test_the_largest_batch_of_100_is_accepted(aws, lambda_context):
    response = ingest.handler(with_body(sample("ingest/valid"), batch(*range(100))), lambda_context)
    assert response["statusCode"] == 200
    assert len(stored_items()) == 100


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
    assert stored_items() == []


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
    assert stored_items() == []


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
    assert stored_items() == []


@pytest.mark.parametrize("key_id", [None, "", "k0unknown0"])
def test_unknown_or_missing_key_is_forbidden(aws, lambda_context, key_id):
    response = ingest.handler(as_key(sample("ingest/valid"), key_id), lambda_context)
    assert response["statusCode"] == 403
    assert stored_items() == []


def test_the_dashboard_key_cannot_write_events(aws, lambda_context):
    response = ingest.handler(as_key(sample("ingest/valid"), "k1dashbrd0"), lambda_context)
    assert response["statusCode"] == 403
