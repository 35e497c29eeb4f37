"""Pure domain rules, no AWS: time checks, keys, cursors, ranges, who may read and write."""

import pytest

from functions.domain import devices, events, model_release, query
from functions.domain.devices import Device
from functions.exceptions import Forbidden, InvalidInput
from functions.models.events import EventBatch

NOW = 1_764_028_800_000
DAY = 86_400_000


def batch(*times):
    return EventBatch.model_validate(
        {
            "events": [
                {"seq": i, "gesture": "x", "t_ms": t, "score": 0.5, "model_version": "v"}
                for i, t in enumerate(times)
            ]
        }
    )


def test_times_within_the_window_pass_and_others_name_the_event():
    events.check_times(batch(NOW - 30 * DAY, NOW + 300_000), NOW, 30, 300)
    with pytest.raises(InvalidInput) as error:
        events.check_times(batch(NOW, NOW + 300_001), NOW, 30, 300)
    assert error.value.field == "events[1].t_ms"
    with pytest.raises(InvalidInput):
        events.check_times(batch(NOW - 30 * DAY - 1), NOW, 30, 300)


def test_keys_sort_by_time_then_seq_as_strings():
    keys = [events.event_key(t, s) for t, s in [(5, 2), (5, 10), (40, 0), (1_000, 1)]]
    assert keys == sorted(keys)
    assert events.fleet_key(5, "dev", 2) < events.fleet_key(5, "dev", 10)


def test_cursors_round_trip_and_reject_anything_else():
    key = events.event_key(NOW, 7)
    assert query.parse_device_cursor(query.device_cursor(key)) == key
    day, fleet = "2025-11-24", events.fleet_key(NOW - 1, "esp32-a01", 3)
    assert query.parse_fleet_cursor(query.fleet_cursor(day, fleet)) == (day, fleet)
    for bad in ("", "!!!", query.fleet_cursor(day, fleet), "ZHwxMjM"):
        with pytest.raises(InvalidInput):
            query.parse_device_cursor(bad)


def test_fleet_range_defaults_to_a_day_and_is_capped():
    span = query.time_range(None, None, NOW, max_days=7)
    assert span.from_ms == NOW - DAY
    assert query.days_newest_first(query.TimeRange(NOW - 2 * DAY, NOW)) == [
        "2025-11-25",
        "2025-11-24",
        "2025-11-23",
    ]
    with pytest.raises(InvalidInput):
        query.time_range(NOW - 8 * DAY, NOW, NOW, max_days=7)
    assert query.time_range(None, None, NOW, max_days=None).from_ms == 0


def test_devices_write_as_themselves_and_read_only_their_own():
    device, dashboard = Device("a"), Device("dash", role="dashboard")
    assert devices.writer(device, None) == devices.writer(device, "a") == "a"
    with pytest.raises(Forbidden):
        devices.writer(device, "b")
    with pytest.raises(Forbidden):
        devices.writer(dashboard, None)
    assert devices.reader(device, None) == "a"
    assert devices.reader(dashboard, None) is None
    assert devices.reader(dashboard, "b") == "b"
    with pytest.raises(Forbidden):
        devices.reader(device, "b")


def test_if_none_match_handling():
    tag = model_release.etag("v1")
    assert model_release.not_modified('"v1"', tag)
    assert model_release.not_modified('"v0", W/"v1"', tag)
    assert model_release.not_modified("*", tag)
    assert not model_release.not_modified('"v0"', tag)
    assert not model_release.not_modified(None, tag)
