"""The local cloud's state on disk: moto's DynamoDB, S3 and API Gateway backends, kept across
restarts of `gesture-stack up`.

Requests run concurrently (each holds the shared side of a readers-writer lock); a snapshot
takes the exclusive side only while pickling the backends to bytes, then writes the file
outside the lock, atomically (temporary file + rename), so a crash mid-write leaves the
previous snapshot. Snapshots happen a few seconds after a change (less often as the state
grows: requests wait at most 5% of the time) and at shutdown; a killed process loses the
changes since the last snapshot.
Pipeline runs live in the bucket (`runs/<run id>/`), so they are kept with it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import threading
import time
from collections.abc import Iterator
from pathlib import Path

SERVICES = ("dynamodb", "s3", "apigateway")
SNAPSHOT = "moto-state.pickle"
FORMAT = 1


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


def restore(folder: Path) -> bool:
    """Load the snapshot in `folder` into the running moto; False if there is none."""
    path = folder / SNAPSHOT
    if not path.is_file():
        return False
    saved = pickle.loads(path.read_bytes())
    if saved.get("format") != FORMAT:
        raise RuntimeError(f"{path}: written by another version of the local cloud")
    for name, live in _backends().items():
        kept = saved["backends"][name]
        live.clear()
        live.update(kept)
        vars(live).update(vars(kept))  # e.g. S3's bucket name -> account index
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
        with self.lock.exclusive():
            started = time.perf_counter()
            data = pickle.dumps(
                {"format": FORMAT, "saved_at": time.time(), "backends": _backends()},
                protocol=pickle.HIGHEST_PROTOCOL,
            )
            self.last_pause_s = time.perf_counter() - started
        tmp = self.folder / f".{SNAPSHOT}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.folder / SNAPSHOT)
        self.snapshots += 1

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.save()
