"""A bounded, persistent FIFO of JSON records with per-stream sequence numbers.

Records are appended to a log file on flash, so they survive a reboot; only the head of the
queue (`ram_items` records, enough for the next batches) is kept in RAM, so a long outage costs
flash, not heap. A record leaves only when `ack` is called (the API acknowledged it) or
`set_aside` moves it to the dead-letter file (the API rejected it).
Sequence numbers are assigned once and persisted, so a retried record is byte-identical (the
API stores it once). Overflow policy: when `capacity` records are queued, the oldest is dropped
to make room and `dropped` (persisted, reported in telemetry) counts it; the newest data is the
most useful and the sequence gap shows the server what was lost.

Full flash: a record that would leave less than `reserve` bytes of free flash, or whose write
fails (OSError, e.g. ENOSPC), is not queued: `put` returns None and `dropped_full` (also in
`dropped`) counts it; its seq is spent, so the gap shows the server. The newest is refused
rather than the oldest dropped because making room means rewriting the log, which needs free
flash the device does not have, and whoever filled the flash may not be this queue; refusing
touches nothing already written, so the queue stays intact and deliverable. The reserve keeps
room for the state file, so the count itself survives a reboot; a state write that fails
anyway is retried at the next one (counts stay in RAM meanwhile). A rewrite of the log (the
compaction, taking out rejected records, the clock fix-up) needs room for a copy of the queue,
far more than the reserve: after one fails none is tried until the log has grown by another
`capacity` lines or everything is delivered (meanwhile the changes are kept in RAM), so a
nearly full flash does not cost a read of the log and a write until ENOSPC on every put.
A write cut half way leaves a fragment without its newline: a line is a record only with its
newline, and the next append first ends the fragment with `#\n`, so neither it nor the next
record is lost.

Files: `<name>.log` (`<seq> <json>` a line, appended on put; rewritten without delivered
records once it grows), `<name>.state` (`{"next_seq", "acked", "dropped", "dead"}`, replaced
atomically on ack/drop) and `<name>.dead`, the dead-letter file: records the API rejected as
invalid, one JSON line each (`{"seq", "status", "error", "record"}`), kept on flash and counted
in `dead` (reported in telemetry). With `dead_capacity` the dead letters are bounded: when
`<name>.dead` holds that many lines it becomes `<name>.dead.1` (replacing the one before, whose
lines are counted in `dead_evicted`), so at most 2 x dead_capacity are on flash, the newest kept.
A line torn by a power cut is skipped and the log rewritten. A power cut between writing a dead
letter and removing its record from the log leaves it in both: it is sent again, rejected again
and set aside twice (never lost).
"""

import json

from gesture import storage


def _parse(line):
    """(seq, record bytes) of a log line, or None if it is torn (no newline: cut short)."""
    if not line.endswith(b"\n"):
        return None
    seq, _, record = line[:-1].partition(b" ")
    try:
        seq = int(seq)
        json.loads(record)
    except ValueError:
        return None
    return seq, record


class Outbox:
    """FIFO of records; `put(dict)` assigns a seq and persists, `ack(n)` removes the first n.

    With `seq_field`, the record itself carries its sequence number under that key.
    """

    def __init__(
        self, directory, name, capacity, seq_field=None, ram_items=40, reserve=0, dead_capacity=0
    ):
        if capacity < 1 or ram_items < 1:
            raise ValueError("capacity and ram_items must be at least 1")
        self.capacity = capacity
        self.ram_items = ram_items
        self.directory = directory
        self.reserve = reserve  # free flash bytes a put must leave (0: no check)
        self.dead_capacity = dead_capacity  # dead letters per file (0: unbounded)
        self.seq_field = seq_field
        self._log = directory + "/" + name + ".log"
        self._state = directory + "/" + name + ".state"
        self._head = []  # (seq, encoded record) of the oldest queued records, oldest first
        self.count = 0  # records queued (in RAM and on flash)
        self.acked = 0  # every seq <= acked is delivered or dropped
        self.next_seq = 1
        self.dropped = 0  # records not kept: queue full (oldest) or flash full (newest)
        self.dropped_full = 0  # of those: refused because the flash was full
        self.dead = 0  # records moved to the dead-letter file
        self.dead_evicted = 0  # of those: removed from the bounded dead-letter files
        self.dead_path = directory + "/" + name + ".dead"
        self._dead_lines = 0  # lines in the current dead-letter file
        self._log_lines = 0
        self._torn = False  # the log ends in a fragment (a write cut short)
        self._dead_torn = False  # ... and the dead-letter file
        self._skip = set()  # seqs removed in RAM only (the log could not be rewritten)
        self._fixes = []  # changes applied as records are read (the log could not be rewritten)
        self._retry_at = 0  # a rewrite failed (flash full): none until the log has these lines
        self.unsaved = False  # the state could not be written (flash full): retried
        storage.makedirs(directory)
        self._load()

    def _load(self):
        if storage.exists(self._state):
            with open(self._state) as f:
                state = json.load(f)
            self.acked, self.dropped = state["acked"], state["dropped"]
            self.next_seq = state["next_seq"]
            self.dead = state.get("dead", 0)
            self.dropped_full = state.get("dropped_full", 0)
            self.dead_evicted = state.get("dead_evicted", 0)
        self._dead_lines = _count_lines(self.dead_path)
        torn = False
        if storage.exists(self._log):
            with open(self._log, "rb") as f:
                for line in f:
                    self._log_lines += 1
                    parsed = _parse(line)
                    if parsed is None:
                        torn = True
                        continue
                    seq = parsed[0]
                    self.next_seq = max(self.next_seq, seq + 1)
                    if seq > self.acked:
                        self.count += 1
                        if len(self._head) < self.ram_items:
                            self._head.append(parsed)
        if torn:
            self._torn = True  # until the compaction has rewritten the log without it
            self._compact()
        while self.count > self.capacity:
            self._drop_oldest()

    def __len__(self):
        return self.count

    @property
    def first_seq(self):
        """Sequence number of the oldest queued record (next_seq when empty)."""
        return self._head[0][0] if self._head else self.next_seq

    def put(self, record):
        """Queue a record (a dict); returns its sequence number, or None when the flash is full
        (the record is not queued; counted in dropped_full)."""
        seq = self.next_seq
        self.next_seq = seq + 1  # spent even if the record is refused: the gap shows it
        if self.seq_field:
            record[self.seq_field] = seq
        line = json.dumps(record, separators=(",", ":")).encode()
        data = b"%d %s\n" % (seq, line)
        if self._torn:
            data = b"#\n" + data  # ends the fragment a cut write left (an unparseable line)
        if self.reserve and storage.free_bytes(self.directory) - len(data) < self.reserve:
            return self.refuse()
        try:
            with open(self._log, "ab") as f:
                f.write(data)
        except OSError:  # ENOSPC (or a failing flash): maybe half written
            self._torn = True
            return self.refuse()
        self._torn = False
        if self.count >= self.capacity:
            self._drop_oldest()  # only once the new record is safely on flash
        self._log_lines += 1
        if len(self._head) == self.count and self.count < self.ram_items:
            self._head.append((seq, line))  # everything queued is in RAM: keep it so
        self.count += 1
        if self._log_lines >= 2 * self.capacity:
            self._compact()  # an outage: nothing is acked, yet the log must not grow
        return seq

    def refuse(self):
        """Count a record that could not be queued for lack of flash (dropped_full)."""
        self.dropped += 1
        self.dropped_full += 1
        self._save_state()
        return None

    def batch(self, n):
        """The first n encoded records (oldest first; at most ram_items)."""
        return [record for _, record in self._head[:n]]

    @property
    def items(self):
        """The encoded records held in RAM (the head of the queue)."""
        return self.batch(self.ram_items)

    def ack(self, n):
        """The first n records were delivered: remove them for good."""
        n = min(n, len(self._head))
        if n <= 0:
            return
        self.acked = self._head[n - 1][0]
        del self._head[:n]
        self.count -= n
        self._save_state()
        if self._log_lines >= 2 * self.capacity or self.count == 0:
            self._compact()
        if not self._head and self.count:
            self._refill()

    def set_aside(self, indices, status, errors):
        """Move the head records at these indices (0 = oldest) to the dead-letter file, with
        the status and the API's error for each (errors[i]); the others stay queued in order.
        Returns how many were set aside; one the full flash cannot take even as a dead letter
        leaves the queue too, counted in dropped_full."""
        chosen = [i for i in sorted(set(indices)) if 0 <= i < len(self._head)]
        if not chosen:
            return 0
        seqs = set()
        moved = 0
        for i in chosen:
            seq, record = self._head[i]
            seqs.add(seq)
            line = b'{"seq":%d,"status":%d,"error":%s,"record":%s}\n' % (
                seq,
                status,
                json.dumps(errors.get(i)).encode(),
                record,
            )
            try:
                if self.dead_capacity and self._dead_lines >= self.dead_capacity:
                    self._rotate_dead()
                with open(self.dead_path, "ab") as f:
                    f.write(b"\n" + line if self._dead_torn else line)
            except OSError:  # flash full: not kept, counted
                self._dead_torn = True
                self.dropped += 1
                self.dropped_full += 1
                continue
            self._dead_torn = False
            self._dead_lines += 1
            moved += 1
        self.dead += moved
        self._remove(seqs)
        self._save_state()
        return moved

    def _remove(self, seqs):
        """Take these queued records out of the log; if the flash is too full to rewrite it,
        out of RAM only (skipped when read, dropped at the next rewrite; after a reboot before
        then they are back: sent again, never lost)."""
        try:
            self._rewrite(lambda seq, record: None if seq in seqs else record)
        except OSError:
            self._skip.update(seqs)
            kept = [h for h in self._head if h[0] not in seqs]
            self.count -= len(self._head) - len(kept)
            self._head = kept
            if not self._head and self.count:
                self._refill()

    def _rotate_dead(self):
        """The full dead-letter file becomes `.dead.1`; the one it replaces is counted evicted
        (counted before it is removed: a power cut in between can only count it twice)."""
        older = self.dead_path + ".1"
        evicted = _count_lines(older)
        if evicted:
            self.dead_evicted += evicted
            self._save_state()
        storage.replace(self.dead_path, older)
        self._dead_lines = 0

    def _queued(self, f):
        """(seq, record bytes) of each queued record in the log file f, with the changes that
        could not be written yet applied (see update_records)."""
        for line in f:
            parsed = _parse(line)
            if parsed is None or parsed[0] <= self.acked or parsed[0] in self._skip:
                continue
            seq, record = parsed
            for fix in self._fixes:
                record = fix(seq, record)
            yield seq, record

    def _write_log(self, fn):
        """Write the queued records through fn(seq, record) -> bytes or None (None: removed)
        to a new log and put it in place; returns the number kept. OSError (flash full) leaves
        the log as it was. After a failure no rewrite is tried (OSError at once) until the log
        has grown by another `capacity` lines, or nothing is queued (the new log is empty): a
        copy the flash cannot take is not read and written until ENOSPC on every call."""
        if self.count and self._log_lines < self._retry_at:
            raise OSError(28)  # ENOSPC, as the last try: the callers keep the change in RAM
        tmp = self._log + ".tmp"
        kept = 0
        try:
            with open(tmp, "wb") as out:
                if storage.exists(self._log):
                    with open(self._log, "rb") as f:
                        for seq, record in self._queued(f):
                            record = fn(seq, record)
                            if record is not None:
                                out.write(b"%d %s\n" % (seq, record))
                                kept += 1
        except OSError:
            storage.remove(tmp)
            self._retry_at = self._log_lines + self.capacity
            raise
        storage.replace(tmp, self._log)
        self._retry_at = 0
        self._log_lines = kept
        self._torn = False
        self._skip = set()
        self._fixes = []
        return kept

    def _rewrite(self, fn):
        """Rewrite the queued part of the log through fn (see _write_log); then reload the head
        from it. Raises OSError (log unchanged) if the flash is full."""
        self.count = self._write_log(fn)
        self._head = []
        if self.count:
            self._refill()

    def update_records(self, fn):
        """Apply fn(record dict) to every queued record and persist (rare: a clock fix-up).
        When the flash is too full to rewrite the log, the change is applied to records as they
        are read, this boot (after a reboot they are records of an earlier boot); fn must then
        give the same answer when applied again."""
        if not self.count:
            return

        def change(seq, line):
            record = json.loads(line)
            fn(record)
            return json.dumps(record, separators=(",", ":")).encode()

        try:
            self._rewrite(change)
        except OSError:
            self._fixes.append(change)
            self._head = [(seq, change(seq, line)) for seq, line in self._head]

    def _drop_oldest(self):
        if not self._head:
            self._refill()
        seq = self._head.pop(0)[0]
        self.acked = seq
        self.count -= 1
        self.dropped += 1
        self._save_state()
        if not self._head and self.count:
            self._refill()

    def _refill(self):
        """Load the next ram_items queued records from the log."""
        after = self._head[-1][0] if self._head else self.acked
        with open(self._log, "rb") as f:
            for seq, record in self._queued(f):
                if seq > after:
                    self._head.append((seq, record))
                    if len(self._head) >= self.ram_items:
                        return

    def _save_state(self):
        state = {
            "next_seq": self.next_seq,
            "acked": self.acked,
            "dropped": self.dropped,
            "dead": self.dead,
            "dropped_full": self.dropped_full,
            "dead_evicted": self.dead_evicted,
        }
        try:
            storage.write_atomic(self._state, json.dumps(state))
            self.unsaved = False
        except OSError:  # flash full: the counts stay in RAM and go with the next save
            self.unsaved = True

    def _compact(self):
        """Rewrite the log with only the queued records (streamed, not loaded into RAM). On a
        full flash it is left as it is (acked records are skipped when read) and tried again
        once the log has grown by another `capacity` lines or everything is delivered."""
        try:
            self._write_log(lambda seq, record: record)
        except OSError:  # (no contextlib on MicroPython)
            return


def _count_lines(path):
    """Lines in a file (0 if it does not exist)."""
    if not storage.exists(path):
        return 0
    n = 0
    with open(path, "rb") as f:
        for _ in f:
            n += 1
    return n
