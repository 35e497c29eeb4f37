"""Outbox persistence, order, overflow policy (runs under micropython in a temp cwd)."""

import json

from gesture.outbox import Outbox


def _seqs(box):
    return list(range(box.first_seq, box.first_seq + len(box)))


def test_put_assigns_contiguous_seqs_and_survives_reboot():
    box = Outbox("q1", "events", 10, "seq")
    for i in range(3):
        assert box.put({"gesture": "x", "i": i}) == i + 1
    box.ack(1)
    again = Outbox("q1", "events", 10, "seq")  # a reboot: RAM is gone, flash stays
    assert _seqs(again) == [2, 3]
    assert [json.loads(line)["i"] for line in again.items] == [1, 2]
    assert again.put({"gesture": "y"}) == 4


def test_seq_keeps_counting_after_everything_was_delivered():
    box = Outbox("q2", "events", 10)
    box.put({"a": 1})
    box.put({"a": 2})
    box.ack(2)
    again = Outbox("q2", "events", 10)
    assert len(again) == 0
    assert again.put({"a": 3}) == 3


def test_overflow_drops_oldest_and_counts_it_persistently():
    box = Outbox("q3", "events", 3)
    for i in range(5):
        box.put({"i": i})
    assert _seqs(box) == [3, 4, 5] and box.dropped == 2
    again = Outbox("q3", "events", 3)
    assert _seqs(again) == [3, 4, 5] and again.dropped == 2


def test_torn_last_line_is_ignored():
    box = Outbox("q4", "events", 10)
    box.put({"i": 0})
    with open("q4/events.log", "ab") as f:
        f.write(b'{"i":1,"se')  # power cut mid-append
    again = Outbox("q4", "events", 10)
    assert _seqs(again) == [1]
    assert again.put({"i": 2}) == 2


def test_log_is_compacted_but_keeps_pending_records():
    box = Outbox("q5", "events", 4)
    for i in range(20):
        box.put({"i": i})
        if i % 3 == 2:
            box.ack(2)
    with open("q5/events.log", "rb") as f:
        lines = f.read().split(b"\n")
    assert len(lines) - 1 <= 2 * 4 + 1, len(lines)
    assert _seqs(Outbox("q5", "events", 4)) == _seqs(box)


def test_ack_more_than_queued_is_harmless():
    box = Outbox("q6", "events", 4)
    box.put({"i": 0})
    box.ack(5)
    assert len(box) == 0 and box.first_seq == 2


def test_seq_field_puts_the_sequence_number_into_the_record():
    box = Outbox("q7", "events", 4, seq_field="seq")
    box.put({"gesture": "x"})
    plain = Outbox("q7b", "telemetry", 4)
    plain.put({"uptime_s": 1})
    assert json.loads(box.items[0]) == {"gesture": "x", "seq": 1}
    assert json.loads(plain.items[0]) == {"uptime_s": 1}
    assert json.loads(Outbox("q7", "events", 4).items[0])["seq"] == 1
