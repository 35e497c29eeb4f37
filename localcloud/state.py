"""The local cloud's state on disk: moto's DynamoDB, S3 and API Gateway backends, kept across
restarts of `gesture-stack up`.

Requests run concurrently (each holds the shared side of a readers-writer lock); a snapshot
takes the exclusive side while it writes the backends (pickled, without their table items)
and then every table item as a JSON line, to a temporary file it renames over the previous
snapshot only when complete, so a crash mid-write leaves the previous one. Snapshots happen
a few seconds after a change (less often as the state grows: requests wait at most 5% of the
time) and at shutdown; a killed process loses the changes since the last snapshot.
Pipeline runs live in the bucket (`runs/<run id>/`), so they are kept with it.
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

SERVICES = ("dynamodb", "s3", "apigateway")
SNAPSHOT = "moto-state.snapshot"
FORMAT = 2


class ReadWriteLock:
    """Many readers or one writer; a waiting writer stops new readers (no starvation)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            while self._writer or self._waiting_writers:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def _backends() -> dict:
    from moto.backends import get_backend

    return {name: get_backend(name) for name in SERVICES}


def _tables(backends: dict):
    """(account, region, table) of every DynamoDB table."""
    for account, regions in backends["dynamodb"].items():
        for region, backend in regions.items():
            for table in backend.tables.values():
                yield account, region, table


def _items(table):
    for value in table.items.values():
        yield from value.values() if table.range_key_attr else [value]


def write_snapshot(f) -> None:
    """The backends, pickled without their table items, then one JSON line per item.

    Items are most of the state; pickling them would also hold a memo of every object (the
    process's peak memory); as JSON lines they stream with nothing kept."""
    backends = _backends()
    tables = list(_tables(backends))
    detached = [table.items for _, _, table in tables]
    try:
        for _, _, table in tables:
            table.items = defaultdict(dict)
        head = pickle.dumps(
            {"format": FORMAT, "saved_at": time.time(), "backends": backends},
            protocol=pickle.HIGHEST_PROTOCOL,
        )
    finally:
        for (_, _, table), items in zip(tables, detached, strict=True):
            table.items = items
    f.write(len(head).to_bytes(8, "big"))
    f.write(head)
    for account, region, table in tables:
        for item in _items(table):
            line = [account, region, table.name, item.to_json()["Attributes"]]
            f.write(json.dumps(line, separators=(",", ":")).encode() + b"\n")


def restore(folder: Path) -> bool:
    """Load the snapshot in `folder` into the running moto; False if there is none."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    path = folder / SNAPSHOT
    if not path.is_file():
        return False
    with open(path, "rb") as f:
        head = f.read(int.from_bytes(f.read(8), "big"))
        saved = pickle.loads(head)
        if saved.get("format") != FORMAT:
            raise RuntimeError(f"{path}: written by another version of the local cloud")
        live = _backends()
        for name, backend in live.items():
            kept = saved["backends"][name]
            backend.clear()
            backend.update(kept)
            vars(backend).update(vars(kept))  # e.g. S3's bucket name -> account index
        for line in f:
            account, region, name, attrs = json.loads(line)
            table = live["dynamodb"][account][region].tables[name]
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            item = Item(hash_key, range_key, attrs)
            if range_key is not None:
                table.items[hash_key][range_key] = item
            else:
                table.items[hash_key] = item
    return True


class StateKeeper:
    """Snapshots the backends to `folder` after changes (every `interval_s` at most) and on
    `close()`; `lock.shared()` around each request keeps a snapshot consistent."""

    def __init__(self, folder: Path | None, interval_s: float = 5.0):
        self.folder = folder
        self.interval_s = interval_s
        self.lock = ReadWriteLock()
        self._dirty = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.snapshots = 0
        self.last_pause_s = 0.0

    def start(self) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._loop, name="state-keeper", daemon=True)
        self._thread.start()

    def changed(self) -> None:
        self._dirty.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            # a big state pauses requests longer: snapshot it less often (paused <= 5% of time)
            wait = max(self.interval_s, 20 * self.last_pause_s)
            if self._dirty.wait(timeout=0.5) and not self._stop.wait(wait):
                self.save()

    def save(self) -> None:
        if self.folder is None:
            return
        self._dirty.clear()
        tmp = self.folder / f".{SNAPSHOT}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            with self.lock.exclusive():
                started = time.perf_counter()
                write_snapshot(f)
                self.last_pause_s = time.perf_counter() - started
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.folder / SNAPSHOT)
        self.snapshots += 1

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.save()
