"""Telemetry RMS, capture windows and configuration (runs under micropython)."""

import json

from gesture import config, spec, telemetry, units
from gesture.capture import Capture
from gesture.ring import SampleRing


def _fill(ring, n, row=None):
    for i in range(n):
        o = ring.write_offset()
        values = row if row is not None else (i, -i, 2 * i, 0, 0, i % 100)
        for k in range(6):
            ring.buf[o + k] = values[k]
        ring.commit()
        ring.release()


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type as exc:
        return exc
    raise AssertionError(exc_type.__name__ + " not raised")


def test_acc_rms_per_axis_in_m_s2():
    ring = SampleRing(256)
    _fill(ring, 300, (16384, -8192, 0, 5, 5, 5))
    rms = telemetry.acc_rms(ring, 256)
    assert abs(rms["x"] - units.G) < 1e-9 and abs(rms["y"] - units.G / 2) < 1e-9
    assert rms["z"] == 0.0


def test_heartbeat_has_the_api_fields():
    ring = SampleRing(256)
    _fill(ring, 10, (0, 0, 16384, 0, 0, 0))
    record = telemetry.heartbeat(ring, 12, "v1", 3, 2, 4, 1, ["idle", "shake", "x"])
    assert sorted(record) == sorted(
        [
            "acc_rms",
            "free_heap",
            "uptime_s",
            "firmware_version",
            "model_version",
            "queue_len",
            "dropped",
            "dead_letters",
            "auth_failures",
            "gestures",
        ]
    )  # the app stamps t_ms (or boot_ms before the clock is set)
    assert (record["queue_len"], record["dropped"], record["dead_letters"]) == (3, 2, 4)
    assert record["auth_failures"] == 1
    assert record["gestures"] == ["shake", "x"]  # the running model's vocabulary
    assert record["firmware_version"] == spec.FIRMWARE_VERSION
    assert record["free_heap"] > 0 and abs(record["acc_rms"]["z"] - units.G) < 1e-9


def test_capture_copies_the_window_around_a_detection_once_it_is_complete():
    ring = SampleRing(512)
    cap = Capture(ring, pre_ms=200, post_ms=100, near_miss=0.5)
    _fill(ring, 100)
    cap.trigger(95, "x", "detection", "v1")
    assert cap.poll(1000) is None  # samples 100..104 (after the trigger) are not in yet
    _fill_from(ring, 100, 20)
    record = cap.poll(1000)
    assert record["t_ms"] == 1000 + 75 * 10 and record["rate_hz"] == 100
    assert record["units"] == "raw" and record["signals"] == list(units.SIGNALS)
    assert len(record["values"]) == 30
    assert record["values"][0] == [75, -75, 150, 0, 0, 75]
    assert record["values"][-1] == [104, -104, 208, 0, 0, 4]
    assert (record["label"], record["reason"], record["model_version"]) == ("x", "detection", "v1")
    assert cap.poll(1000) is None
    json.dumps(record)


def _fill_from(ring, start, n):
    for i in range(start, start + n):
        o = ring.write_offset()
        for k, v in enumerate((i, -i, 2 * i, 0, 0, i % 100)):
            ring.buf[o + k] = v
        ring.commit()
        ring.release()


def test_near_miss_triggers_only_above_its_threshold_and_not_too_often():
    ring = SampleRing(512)
    cap = Capture(ring, pre_ms=200, post_ms=100, near_miss=0.5, min_gap_ms=1000)
    classes = ("idle", "x", "y", "circle")
    cap.check_near_miss(300, [0.6, 0.3, 0.1, 0.0], classes, "v1")
    assert cap.pending is None
    cap.check_near_miss(300, [0.4, 0.1, 0.5, 0.0], classes, "v1")
    assert cap.pending[1:3] == ("y", "near_miss")
    cap.pending = None
    cap.check_near_miss(350, [0.2, 0.8, 0.0, 0.0], classes, "v1")
    assert cap.pending is None  # within min_gap of the last trigger


def test_a_detection_replaces_a_pending_near_miss_but_not_another_detection():
    ring = SampleRing(512)
    cap = Capture(ring, pre_ms=200, post_ms=100, near_miss=0.5)
    cap.trigger(100, "x", "near_miss", "v1")
    cap.trigger(105, "x", "detection", "v1")
    assert cap.pending == (85, "x", "detection", "v1")
    cap.trigger(108, "y", "detection", "v1")
    cap.trigger(108, "y", "near_miss", "v1")
    assert cap.pending == (85, "x", "detection", "v1")


def test_capture_window_must_fit_the_ring():
    _raises(ValueError, Capture, SampleRing(200), 1000, 500, 0.5)


def test_config_merges_nested_defaults_and_rejects_incomplete_files():
    with open("c1.json", "w") as f:
        json.dump({"api_url": "https://x", "api_key": "k", "wifi": {"ssid": "net"}}, f)
    cfg = config.load("c1.json")
    assert cfg["wifi"]["ssid"] == "net" and cfg["wifi"]["timeout_s"] == 20
    assert cfg["i2c"] == {"id": 0, "scl": 22, "sda": 21, "freq": 400000}
    with open("c2.json", "w") as f:
        json.dump({"api_url": "http://x"}, f)
    assert "api_key" in str(_raises(ValueError, config.load, "c2.json"))
    assert "no configuration file" in str(_raises(ValueError, config.load, "missing.json"))
    with open("c3.json", "w") as f:
        json.dump({"mode": "replay", "ring_samples": 10}, f)
    assert "ring_samples" in str(_raises(ValueError, config.load, "c3.json"))
    with open("c4.json", "w") as f:  # plain text only when asked for
        json.dump({"api_url": "http://x", "api_key": "k"}, f)
    assert "allow_http" in str(_raises(ValueError, config.load, "c4.json"))
    with open("c5.json", "w") as f:
        json.dump({"api_url": "http://x", "api_key": "k", "allow_http": True}, f)
    assert config.load("c5.json")["allow_http"] is True


def test_event_ids_never_repeat_across_boots_even_after_a_torn_write():
    from gesture import identity

    seen = set()
    for boot in (1, 2, 3):
        ident = identity.Identity("ids")
        assert ident.boot == boot
        for _ in range(3):
            seen.add(ident.next_id())
        with open("ids/boot.tmp", "w") as f:  # a power cut while writing the next counter
            f.write("9")
    assert len(seen) == 9 and "2-1" in seen and identity.boot_of("3-2") == 3
    assert identity.boot_of(None) is None


def test_manual_label_captures_a_window_at_each_motion_onset():
    ring = SampleRing(512)
    cap = Capture(ring, pre_ms=1000, post_ms=500, near_miss=0.5, min_gap_ms=2000)
    cap.label = "shake"  # a gesture no model knows yet
    _fill(ring, 100, (0, 0, 16384, 10, -10, 5))  # at rest
    cap.check_motion(99, "none")
    assert cap.pending is None
    _fill(ring, 1, (0, 0, 16384, 9000, 0, 0))  # gyro x about 69 deg/s: the motion starts
    cap.check_motion(100, "none")
    assert cap.pending == (50, "shake", "manual", "none")
    cap.check_motion(100, "none")  # a window is pending: no second one
    _fill(ring, 150, (0, 0, 16384, 9000, 0, 0))
    record = cap.poll(0)
    assert (record["label"], record["reason"]) == ("shake", "manual")
    assert len(record["values"]) == 150 and record["t_ms"] == 500
    cap.check_motion(200, "none")  # within min_gap of the last onset
    assert cap.pending is None
    _fill(ring, 50, (0, 0, 16384, 9000, 0, 0))
    cap.check_motion(300, "none")
    assert cap.pending[0] == 250


def test_a_boot_counter_the_full_flash_cannot_take_gives_no_id_until_it_is_written():
    """A boot whose counter is not on flash must not hand out ids: the next boot would reuse
    them and the API would take its events for ones it already stored (lost silently)."""
    from gesture import identity
    from mp_flash import FakeFlash

    flash = FakeFlash("idf", 10**6).install()
    first = identity.Identity("idf")
    assert first.next_id() == "1-1"
    flash.quota = flash.used()  # not a byte left
    second = identity.Identity("idf")  # the boot does not stop for it
    assert second.next_id() is None and second.next_id() is None
    flash.quota = 10**6  # room again: the counter is written before the first id
    assert second.next_id() == "2-1"
    assert identity.Identity("idf").boot == 3  # a reboot does not reuse 2
