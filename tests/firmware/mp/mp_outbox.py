"""Outbox persistence, order, overflow policy (runs under micropython in a temp cwd)."""

import json

from gesture.outbox import Outbox


def _seqs(box):
    """Sequence numbers of the records held in RAM."""
    return [seq for seq, _ in box._head]


def _drain(box, k=3):
    """Deliver everything in batches of k; the records in delivery order."""
    out = []
    while len(box):
        batch = box.batch(k)
        assert batch, "records queued but none in RAM"
        out.extend(json.loads(r) for r in batch)
        box.ack(len(batch))
    return out


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


def test_only_the_head_of_a_long_queue_is_in_ram_and_all_come_out_in_order():
    box = Outbox("q8", "events", 100, seq_field="seq", ram_items=5)
    for i in range(30):
        box.put({"i": i})
    assert len(box) == 30 and len(box.items) == 5
    again = Outbox("q8", "events", 100, ram_items=5)
    assert len(again) == 30 and len(again.items) == 5
    assert [r["seq"] for r in _drain(again)] == list(range(1, 31))
    assert len(Outbox("q8", "events", 100)) == 0


def test_overflow_with_a_small_ram_head_keeps_the_newest():
    box = Outbox("q9", "events", 10, seq_field="seq", ram_items=3)
    for i in range(15):
        box.put({"i": i})
    assert len(box) == 10 and box.dropped == 5
    assert [r["seq"] for r in _drain(box, 4)] == list(range(6, 16))


def test_a_record_appended_after_a_torn_line_survives():
    box = Outbox("q10", "events", 10, seq_field="seq")
    box.put({"i": 0})
    with open("q10/events.log", "ab") as f:
        f.write(b'2 {"i":1,"se')  # power cut mid-append, no newline
    again = Outbox("q10", "events", 10, seq_field="seq")  # reboot: log rewritten clean
    again.put({"i": 2})
    third = Outbox("q10", "events", 10)
    assert [r["i"] for r in _drain(third)] == [0, 2]
