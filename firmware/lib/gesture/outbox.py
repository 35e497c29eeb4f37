"""A bounded, persistent FIFO of JSON records with per-stream sequence numbers.

Records live in RAM as their encoded JSON (bytes) and in a log file on flash, so they survive a
reboot; a record leaves only when `ack` is called after the server answered 2xx. Sequence
numbers are contiguous and persisted, so a retried record is byte-identical (the API stores it
once). Overflow policy: when `capacity` records are queued, the oldest is dropped to make room
and `dropped` (persisted, reported in telemetry) counts it; the newest data is the most useful
and the sequence gap shows the server what was lost.

Files: `<name>.log` (`<seq> <json>` a line, appended on put) and `<name>.state`
(`{"next_seq", "acked", "dropped"}`, replaced atomically on ack/drop).
"""

import json

from gesture import storage


class Outbox:
    """FIFO of records; `put(dict)` assigns a seq and persists, `ack(n)` removes the first n.

    With `seq_field`, the record itself carries its sequence number under that key.
    """

    def __init__(self, directory, name, capacity, seq_field=None):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.seq_field = seq_field
        self._log = directory + "/" + name + ".log"
        self._state = directory + "/" + name + ".state"
        self.items = []  # encoded records, oldest first; seqs first_seq, first_seq + 1, ...
        self.first_seq = 1
        self.next_seq = 1
        self.dropped = 0
        self._log_lines = 0
        storage.makedirs(directory)
        self._load()

    def _load(self):
        acked = 0
        if storage.exists(self._state):
            with open(self._state) as f:
                state = json.load(f)
            acked, self.dropped = state["acked"], state["dropped"]
            self.next_seq = state["next_seq"]
        if storage.exists(self._log):
            with open(self._log, "rb") as f:
                for line in f:
                    self._log_lines += 1
                    seq, _, record = line.rstrip(b"\n").partition(b" ")
                    try:
                        seq = int(seq)
                        json.loads(record)
                    except ValueError:
                        continue  # a torn last line from a power cut mid-append
                    if seq > acked:
                        self.items.append(record)
                    self.next_seq = max(self.next_seq, seq + 1)
        self.first_seq = self.next_seq - len(self.items)
        while len(self.items) > self.capacity:
            self._drop_oldest()

    def __len__(self):
        return len(self.items)

    def put(self, record):
        """Queue a record (a dict); returns its sequence number."""
        if len(self.items) >= self.capacity:
            self._drop_oldest()
        seq = self.next_seq
        if self.seq_field:
            record[self.seq_field] = seq
        line = json.dumps(record, separators=(",", ":")).encode()
        with open(self._log, "ab") as f:
            f.write(b"%d %s\n" % (seq, line))
        self._log_lines += 1
        self.items.append(line)
        self.next_seq = seq + 1
        return seq

    def batch(self, n):
        """The first n encoded records (oldest first)."""
        return self.items[:n]

    def ack(self, n):
        """The first n records were delivered: remove them for good."""
        n = min(n, len(self.items))
        if n <= 0:
            return
        del self.items[:n]
        self.first_seq += n
        self._save_state()
        self._compact()

    def discard(self, n=1):
        """Remove the first n records undelivered (the API rejected them); counted as dropped."""
        n = min(n, len(self.items))
        del self.items[:n]
        self.first_seq += n
        self.dropped += n
        self._save_state()
        self._compact()

    def _drop_oldest(self):
        self.items.pop(0)
        self.first_seq += 1
        self.dropped += 1
        self._save_state()

    def _save_state(self):
        state = {"next_seq": self.next_seq, "acked": self.first_seq - 1, "dropped": self.dropped}
        storage.write_atomic(self._state, json.dumps(state))

    def _compact(self):
        """Rewrite the log once it holds mostly delivered records."""
        if self.items and self._log_lines < 2 * self.capacity:
            return
        seq = self.first_seq
        lines = []
        for record in self.items:
            lines.append(b"%d %s\n" % (seq, record))
            seq += 1
        storage.write_atomic(self._log, b"".join(lines))
        self._log_lines = len(self.items)
