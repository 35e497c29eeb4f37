"""GET /events: newest first, paginated by opaque cursors, served by Query (never Scan)."""

import pytest
from api_helpers import SAMPLE_NOW_MS, as_key, body, sample, with_body, with_query

from functions import ingest, query

HOUR_MS = 3_600_000
DEVICE_KEYS = {"esp32-a01": "k1esp32a01", "esp32-b02": "k1esp32b02"}


def store(lambda_context, device_id, times):
    events = [
        {"seq": i, "gesture": "xy"[i % 2], "t_ms": t, "score": 0.7, "model_version": "v1"}
        for i, t in enumerate(times)
    ]
    event = as_key(sample("ingest/valid"), DEVICE_KEYS[device_id])
    for start in range(0, len(events), 100):
        response = ingest.handler(
            with_body(event, {"events": events[start : start + 100]}), lambda_context
        )
        assert response["statusCode"] == 200, response["body"]


def pages(lambda_context, event, **params):
    """Every page, following next_cursor."""
    items, cursor = [], None
    while True:
        response = query.handler(with_query(event, cursor=cursor, **params), lambda_context)
        assert response["statusCode"] == 200, response["body"]
        page = body(response)
        items.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_device_events_come_newest_first_across_pages(aws, lambda_context, dynamodb_calls):
    times = [SAMPLE_NOW_MS - 10 * HOUR_MS + k * 60_000 for k in range(23)]
    store(lambda_context, "esp32-a01", times)
    store(lambda_context, "esp32-b02", times[:5])
    result = pages(lambda_context, sample("query/valid"), device_id="esp32-a01", limit=5)
    assert [len(p) for p in result] == [5, 5, 5, 5, 3]
    flat = [e["t_ms"] for p in result for e in p]
    assert flat == sorted(times, reverse=True)
    assert {e["device_id"] for p in result for e in p} == {"esp32-a01"}
    assert "Scan" not in dynamodb_calls.calls


def test_time_range_bounds_the_device_query(aws, lambda_context):
    times = [SAMPLE_NOW_MS - k * HOUR_MS for k in range(1, 11)]
    store(lambda_context, "esp32-a01", times)
    result = pages(
        lambda_context,
        sample("query/valid"),
        device_id="esp32-a01",
        limit=50,
        **{"from": SAMPLE_NOW_MS - 5 * HOUR_MS, "to": SAMPLE_NOW_MS - 2 * HOUR_MS},
    )
    assert [e["t_ms"] for e in result[0]] == [SAMPLE_NOW_MS - k * HOUR_MS for k in (2, 3, 4, 5)]


def test_fleet_view_spans_devices_and_days_newest_first(aws, lambda_context, dynamodb_calls):
    a_times = [SAMPLE_NOW_MS - k * 5 * HOUR_MS for k in range(1, 10)]  # crosses two UTC days
    b_times = [t - 1000 for t in a_times]
    store(lambda_context, "esp32-a01", a_times)
    store(lambda_context, "esp32-b02", b_times)
    event = sample("query/fleet")
    result = pages(
        lambda_context,
        event,
        limit=4,
        **{"from": SAMPLE_NOW_MS - 2 * 24 * HOUR_MS, "to": SAMPLE_NOW_MS},
    )
    flat = [(e["t_ms"], e["device_id"]) for p in result for e in p]
    expected = sorted(
        [(t, "esp32-a01") for t in a_times] + [(t, "esp32-b02") for t in b_times], reverse=True
    )
    assert flat == expected
    assert "Scan" not in dynamodb_calls.calls


def test_fleet_view_defaults_to_the_last_day(aws, lambda_context):
    store(lambda_context, "esp32-a01", [SAMPLE_NOW_MS - HOUR_MS, SAMPLE_NOW_MS - 30 * HOUR_MS])
    event = with_query(sample("query/fleet"))
    page = body(query.handler(event, lambda_context))
    assert [e["t_ms"] for e in page["items"]] == [SAMPLE_NOW_MS - HOUR_MS]


def test_fleet_view_range_is_bounded(aws, lambda_context):
    event = with_query(sample("query/fleet"), **{"from": 0, "to": SAMPLE_NOW_MS})
    response = query.handler(event, lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == "from"


def test_a_device_may_not_read_the_fleet_or_another_device(aws, lambda_context):
    response = query.handler(sample("query/forbidden-other-device"), lambda_context)
    assert response["statusCode"] == 403
    own = query.handler(with_query(sample("query/valid")), lambda_context)
    assert own["statusCode"] == 200  # no device_id: its own events


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"from": 10, "to": 5}, "from"),
        ({"device_id": "no/slashes"}, "device_id"),
    ],
)
def test_bad_parameters_name_the_field(aws, lambda_context, params, field):
    response = query.handler(with_query(sample("query/valid"), **params), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == field


def test_bad_sample_names_the_field(aws, lambda_context):
    response = query.handler(sample("query/bad"), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] in {"limit", "cursor"}
