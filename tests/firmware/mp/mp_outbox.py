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


# -- a full flash (mp_flash.FakeFlash: a byte quota on the folder, ENOSPC past it) ----------


def _line(seq, i):
    """The log line of record {"i": i} with seq (what put writes)."""
    return b'%d {"i":%d,"seq":%d}\n' % (seq, i, seq)


def test_a_full_flash_refuses_the_newest_counts_it_and_keeps_the_queue():
    from mp_flash import FakeFlash

    flash = FakeFlash("f1", 1500).install()
    box = Outbox("f1", "events", 100, seq_field="seq", reserve=1000)
    kept, refused = [], []
    for i in range(40):
        seq = box.put({"i": i})
        (refused if seq is None else kept).append(i)
    assert kept and refused and kept == list(range(len(kept)))  # the newest are refused
    assert box.dropped_full == len(refused) and box.dropped == len(refused)
    assert flash.free_bytes("f1") >= 1000 - 200  # the reserve holds (minus the state file)
    assert len(box) == len(kept)
    again = Outbox("f1", "events", 100, seq_field="seq", reserve=1000)  # a reboot
    assert (again.dropped_full, again.dropped) == (len(refused), len(refused))
    assert [r["i"] for r in _drain(again)] == kept  # every kept record, once, in order
    # the space came back: the next record is queued after a gap of the refused seqs
    seq = again.put({"i": 99})
    assert seq == len(kept) + len(refused) + 1
    assert [r["i"] for r in _drain(again)] == [99]


def test_one_byte_short_of_the_reserve_refuses_exactly_enough_keeps():
    from gesture import storage

    for spare, kept in ((-1, False), (0, True)):
        name = "f2" + ("k" if kept else "r")
        box = Outbox(name, "events", 10, seq_field="seq", reserve=500)
        free = 500 + len(_line(1, 0)) + spare
        storage.free_bytes = lambda path, free=free: free  # (each test: its own micropython)
        assert (box.put({"i": 0}) is not None) == kept, spare
        assert (len(box), box.dropped_full) == ((1, 0) if kept else (0, 1))


def test_a_write_cut_half_way_keeps_the_records_before_and_after_it():
    from mp_flash import FakeFlash

    flash = FakeFlash("f3", 10**6).install()
    box = Outbox("f3", "events", 100, seq_field="seq")
    for i in range(3):
        box.put({"i": i})
    for cut in (7, 0, len(_line(4, 3)) - 1):  # mid-record, nothing, all but the newline
        flash.cut_next_write(cut)
        assert box.put({"i": 100 + cut}) is None
    assert box.dropped_full == 3 and len(box) == 3
    box.put({"i": 3})
    box.put({"i": 4})
    assert [json.loads(r)["i"] for r in box.items] == [0, 1, 2, 3, 4]
    again = Outbox("f3", "events", 100, seq_field="seq")  # a reboot reads the same queue
    assert again.dropped_full == 3
    assert [r["i"] for r in _drain(again)] == [0, 1, 2, 3, 4]


def test_a_power_cut_mid_record_then_a_reboot_keeps_the_records_before_it():
    box = Outbox("f4", "events", 100, seq_field="seq")
    for i in range(3):
        box.put({"i": i})
    with open("f4/events.log", "ab") as f:
        f.write(_line(4, 3)[:-1])  # everything but the newline: not a record yet
    again = Outbox("f4", "events", 100, seq_field="seq")
    assert len(again) == 3
    again.put({"i": 5})
    assert [r["i"] for r in _drain(Outbox("f4", "events", 100, seq_field="seq"))] == [0, 1, 2, 5]


def test_deliveries_go_on_when_the_flash_is_completely_full():
    from mp_flash import FakeFlash

    flash = FakeFlash("f5", 10**6).install()
    box = Outbox("f5", "events", 3, seq_field="seq")  # compacts at 6 log lines
    for i in range(5):
        box.put({"i": i})  # 0 and 1 dropped (queue full), 5 lines
    flash.quota = flash.used()  # not one byte left, not even for the state file
    assert box.put({"i": 5}) is None and (box.dropped, box.dropped_full) == (3, 1)  # 2, 3, 4 kept
    flash.quota += len(_line(7, 6)) + 2  # room for one line: the log reaches 6 lines
    assert box.put({"i": 6}) is not None and box.dropped == 4  # 2 made room (queue full)
    box.ack(1)  # neither the state nor the compacted log can be written: no error
    assert box.unsaved and [json.loads(r)["i"] for r in box.batch(10)] == [4, 6]
    flash.quota = 10**6  # room again: the next state write persists everything
    box.ack(1)
    again = Outbox("f5", "events", 3, seq_field="seq")
    assert (again.dropped, again.dropped_full) == (4, 1)
    assert [r["i"] for r in _drain(again)] == [6]


# -- the dead-letter file is bounded ---------------------------------------------------------


def _dead_lines(path):
    try:
        with open(path) as f:
            return [json.loads(line) for line in f]
    except OSError:
        return []


def test_the_dead_letter_files_are_bounded_and_evictions_counted():
    box = Outbox("d1", "events", 100, seq_field="seq", dead_capacity=3)
    for i in range(8):
        box.put({"i": i})
    for k in range(8):  # the API rejects each record alone
        assert box.set_aside([0], 400, {0: {"index": 0, "message": f"bad {k}"}}) == 1
    newest, older = _dead_lines("d1/events.dead"), _dead_lines("d1/events.dead.1")
    assert len(newest) <= 3 and len(older) == 3  # at most 2 x dead_capacity on flash
    kept = [d["record"]["i"] for d in older + newest]
    assert kept == list(range(8 - len(kept), 8))  # the newest ones, oldest first, readable
    assert box.dead == 8 and box.dead_evicted == 8 - len(kept)
    again = Outbox("d1", "events", 100, seq_field="seq", dead_capacity=3)
    assert (again.dead, again.dead_evicted) == (8, 8 - len(kept))
    again.put({"i": 8})
    again.set_aside([0], 400, {0: {"index": 0}})
    newest = _dead_lines("d1/events.dead")
    assert len(newest) <= 3 and newest[-1]["record"]["i"] == 8
    total = len(newest) + len(_dead_lines("d1/events.dead.1"))
    assert again.dead - again.dead_evicted == total  # what is counted is what is on flash


def test_the_log_stays_bounded_while_nothing_is_delivered():
    """An outage: nothing is acknowledged, the queue drops its oldest; the log on flash must not
    grow past 2 x capacity lines (it is compacted as it goes, not only on an ack)."""
    box = Outbox("q11", "events", 3, seq_field="seq")
    for i in range(40):
        box.put({"i": i})
    with open("q11/events.log", "rb") as f:
        assert len(f.read().split(b"\n")) - 1 <= 2 * 3
    assert box.dropped == 37 and [r["i"] for r in _drain(box)] == [37, 38, 39]


def test_a_clock_fix_up_on_a_full_flash_applies_to_what_is_sent_and_raises_nothing():
    from mp_flash import FakeFlash

    flash = FakeFlash("f6", 10**6).install()
    box = Outbox("f6", "events", 10, seq_field="seq", ram_items=2)
    for i in range(4):
        box.put({"i": i, "boot_ms": 10 * i})
    flash.quota = flash.used()  # the log cannot be rewritten

    def resolve(record):
        if "boot_ms" in record:
            record["t_ms"] = 1000 + record.pop("boot_ms")

    box.update_records(resolve)
    assert [r["t_ms"] for r in _drain(box, 1)] == [1000, 1010, 1020, 1030]  # head and refills
    box.update_records(resolve)  # nothing left to change: nothing written, nothing raised


def test_a_rejected_record_on_a_full_flash_leaves_the_queue_and_is_counted():
    from mp_flash import FakeFlash

    flash = FakeFlash("f7", 10**6).install()
    box = Outbox("f7", "events", 10, seq_field="seq", ram_items=2)  # the rest is read later
    for i in range(4):
        box.put({"i": i})
    box.set_aside([0], 400, {0: {"index": 0}})  # room: a dead letter
    flash.quota = flash.used()  # neither a dead letter nor a new log fits
    assert box.set_aside([1], 400, {1: {"index": 1}}) == 0
    assert (box.dead, box.dropped_full) == (1, 1)
    assert [r["i"] for r in _drain(box, 1)] == [1, 3]  # the rest stays, in order, once
    assert [d["record"]["i"] for d in _dead_lines("f7/events.dead")] == [0]


# -- a rewrite the flash cannot take is not tried again on every call -----------------------


def _log_lines(path):
    with open(path, "rb") as f:
        return len(f.read().split(b"\n")) - 1


def test_a_compaction_the_flash_cannot_take_is_not_tried_again_on_every_put():
    """Free flash between one record (+ the reserve) and the compacted copy of the log: the
    compaction at 2 x capacity lines fails. It is not tried again (reading the log, writing until
    ENOSPC) on each later put, only once the log has grown by another `capacity` lines; nothing
    queued is lost, and once the flash has room again the log is back under its bound."""
    from mp_flash import FakeFlash

    cap, reserve, tmp = 40, 300, "f8/events.log.tmp"
    flash = FakeFlash("f8", 10**6).install()
    box = Outbox("f8", "events", cap, seq_field="seq", reserve=reserve)
    for i in range(2 * cap - 1):  # one line short of a compaction; the oldest were dropped
        box.put({"i": i})
    copy = cap * len(_line(2 * cap, 2 * cap))  # about what the compacted log needs
    flash.quota = flash.used() + reserve + copy // 2  # room for ~20 records, not for the copy
    kept = list(range(2 * cap - 1))
    for i in range(2 * cap - 1, 4 * cap):
        if box.put({"i": i}) is not None:
            kept.append(i)
    assert len(kept) - (2 * cap - 1) >= 10  # puts went on after the compaction failed ...
    assert flash.opened.get(tmp) == 1, flash.opened  # ... and it was tried once, not each time
    assert flash.written[tmp] <= copy // 2 + reserve
    assert box.dropped_full > 0  # the flash did fill up: the newest were refused, not the log
    flash.quota = 10**6  # room again (e.g. another queue was delivered)
    for i in range(4 * cap, 5 * cap):
        assert box.put({"i": i}) is not None
        kept.append(i)
    assert flash.opened[tmp] == 2 and _log_lines("f8/events.log") <= 2 * cap  # bound restored
    assert box.set_aside([0], 400, {0: {"index": 0}}) == 1  # a rewrite that fits: done at once
    assert flash.opened[tmp] == 3
    again = Outbox("f8", "events", cap, seq_field="seq", reserve=reserve)  # a reboot
    assert [r["i"] for r in _drain(again)] == kept[-cap + 1 :]  # the rest, each once, in order


def test_rejections_and_a_clock_fix_up_do_not_rewrite_the_log_on_every_call_either():
    """The siblings of the compaction: taking rejected records out of the log and the clock
    fix-up rewrite it too. On a flash that cannot take the copy the first attempt fails and
    the later calls change the queue in RAM only (no read-and-write until ENOSPC each time);
    what is sent has every change, and nothing queued is lost."""
    from mp_flash import FakeFlash

    cap, tmp = 40, "f9/events.log.tmp"
    flash = FakeFlash("f9", 10**6).install()
    box = Outbox("f9", "events", cap, seq_field="seq", ram_items=5)
    pad = "x" * 40
    for i in range(cap):
        box.put({"i": i, "boot_ms": i, "pad": pad})
    log_size = flash.used()
    flash.quota = log_size + log_size // 2  # the dead letters fit, a copy of the log does not
    for _ in range(6):  # the API rejects the oldest, six times
        assert box.set_aside([0], 400, {0: {"index": 0}}) == 1
    assert flash.opened.get(tmp) == 1, flash.opened

    def resolve(record):
        if "boot_ms" in record:
            record["t_ms"] = 1000 + record.pop("boot_ms")

    box.update_records(resolve)  # at the clock sync
    assert flash.opened.get(tmp) == 1, flash.opened
    assert [d["record"]["i"] for d in _dead_lines("f9/events.dead")] == list(range(6))
    records = _drain(box, 4)  # the API is back
    assert [r["i"] for r in records] == list(range(6, cap))  # each once, in order
    assert all(r["t_ms"] == 1000 + r["i"] and "boot_ms" not in r for r in records)
    assert flash.opened[tmp] == 2 and _log_lines("f9/events.log") == 0  # emptied when drained


def test_a_state_write_the_flash_refuses_leaves_no_temporary_file():
    from gesture import storage
    from mp_flash import FakeFlash

    flash = FakeFlash("f10", 10**6).install()
    box = Outbox("f10", "events", 3, seq_field="seq")
    box.put({"i": 0})
    flash.quota = flash.used()  # full: the state write fails half way
    box.put({"i": 1})  # refused and counted; its state cannot be written
    assert box.unsaved and not storage.exists("f10/events.state.tmp")
    try:
        storage.write_atomic("f10/other.json", "x" * 100)
    except OSError:
        pass
    else:
        raise AssertionError("a full flash took the write")
    assert not storage.exists("f10/other.json.tmp") and not storage.exists("f10/other.json")
