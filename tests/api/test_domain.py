"""Pure domain rules, no AWS: time checks, keys, cursors, ranges, who may read and write."""

import pytest
from pydantic import ValidationError

from functions.domain import devices, events, model_release, query
from functions.domain.devices import Device
from functions.exceptions import Forbidden, InvalidInput
from functions.models.events import EventBatch, GestureEvent

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


def test_keys_parse_back_and_anything_else_is_refused():
    assert events.parse_event_key(events.event_key(NOW, 7)) == (NOW, 7)
    assert events.parse_fleet_key(events.fleet_key(NOW, "esp32-a01", 3)) == (NOW, "esp32-a01", 3)
    good_event, good_fleet = events.event_key(NOW, 7), events.fleet_key(NOW, "a", 3)
    for bad in ("", good_event + "\n", good_event[1:], good_fleet, events.id_key("1-2"), "x#y"):
        with pytest.raises(ValueError):
            events.parse_event_key(bad)
    for bad in ("", good_fleet + "\n", good_event, good_fleet.replace("#a#", "#a/b#"), "x#a#y"):
        with pytest.raises(ValueError):
            events.parse_fleet_key(bad)


EDGES = [0, 1, NOW - 1, NOW, NOW + 1, events.MAX_T_MS - 1, events.MAX_T_MS]


@pytest.mark.parametrize("low", [0, NOW, events.MAX_T_MS])
@pytest.mark.parametrize("high", [NOW, events.MAX_T_MS])
def test_key_ranges_hold_exactly_the_keys_of_their_times(low, high):
    """Inclusive both ends, every seq and device id; id markers never inside a device range."""
    dev_lo, dev_hi = events.device_key_range(low, high)
    fleet_lo, fleet_hi = events.fleet_key_range(low, high)
    for t in EDGES:
        inside = low <= t <= high
        for seq in (0, 1, events.MAX_SEQ):
            assert (dev_lo <= events.event_key(t, seq) <= dev_hi) == inside, (t, seq)
            for device in ("0", "a", "Z" * 64, "z" * 64, "_", "-"):
                key = events.fleet_key(t, device, seq)
                assert (fleet_lo <= key <= fleet_hi) == inside, (t, device, seq)
    assert not dev_lo <= events.id_key("4294967295-4294967295") <= dev_hi


def test_the_whole_fleet_range_is_every_time():
    assert events.fleet_key_range() == events.fleet_key_range(0, events.MAX_T_MS)


def test_the_api_bounds_are_the_key_widths():
    """A t_ms or seq the API accepts always fits its fixed-width key field, and no more."""
    event = {"seq": 0, "gesture": "x", "t_ms": 0, "score": 0.5, "model_version": "v"}
    for field, top in (("t_ms", events.MAX_T_MS), ("seq", events.MAX_SEQ)):
        GestureEvent.model_validate(event | {field: top})
        with pytest.raises(ValidationError):
            GestureEvent.model_validate(event | {field: top + 1})
    assert len(events.event_key(events.MAX_T_MS, events.MAX_SEQ)) == len(events.event_key(0, 0))


def test_cursors_of_pages_already_served_still_resume_where_they_were():
    """Cursors are opaque but clients hold them: the encoding must not drift."""
    assert query.parse_device_cursor("ZHwxNzY0MDI4ODAwMDAwIzAwMDAwMDAwMDc") == events.event_key(
        NOW, 7
    )
    assert query.parse_fleet_cursor(
        "ZnwyMDI1LTExLTI0fDE3NjQwMjg3OTk5OTkjZXNwMzItYTAxIzAwMDAwMDAwMDM"
    ) == ("2025-11-24", events.fleet_key(NOW - 1, "esp32-a01", 3))


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


def test_a_resend_is_same_different_or_expired_against_its_stored_copy():
    record = {"seq": 4, "id": "1-4", "gesture": "wave", "score": 0.9, "model_version": "v1",
              "t_ms": 1_000, "clock": "synced"}  # fmt: skip
    changed = record | {"gesture": "tap"}
    found = events.duplicates([record, changed, record], [record, record, None])
    assert [d.content for d in found] == ["same", "different", "expired"]
    assert [d.id for d in found] == ["1-4"] * 3
