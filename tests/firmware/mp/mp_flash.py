"""A flash that fills up, for tests under micropython: a byte quota on one folder.

`FakeFlash(root, quota).install()` makes gesture.storage and gesture.outbox see it: files
written under `root` count against `quota` bytes; a write that does not fit writes what still
fits and raises OSError(28) (ENOSPC), as littlefs does when it runs out of blocks, and
`storage.free_bytes` answers the quota minus what is used. `cut_next_write(n)`: the next write
under `root` stops after n bytes and raises ENOSPC whatever the quota (a power cut or another
writer taking the last blocks half way through a record). `opened[path]` counts the files
opened for writing under `root` and `written[path]` the bytes that reached each of them.
"""

import os

from gesture import outbox, storage

ENOSPC = 28
_real_open = open


def _size(path):
    try:
        st = os.stat(path)
    except OSError:
        return 0
    if st[0] & 0x4000:
        return sum(_size(path + "/" + name) for name in os.listdir(path))
    return st[6]


class _File:
    def __init__(self, flash, f, path):
        self.flash, self.f, self.path = flash, f, path

    def write(self, data):
        written = self.flash.written
        room = self.flash.quota - self.flash.used()
        cut = self.flash.cut
        if cut is not None:
            self.flash.cut = None
            room = min(room, cut)
        if len(data) > room:
            if room > 0:
                self.f.write(data[:room])
                written[self.path] = written.get(self.path, 0) + room
            self.flash.refused += 1
            raise OSError(ENOSPC)
        written[self.path] = written.get(self.path, 0) + len(data)
        return self.f.write(data)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()

    def close(self):
        self.f.close()


class FakeFlash:
    def __init__(self, root, quota):
        self.root = root
        self.quota = quota
        self.cut = None
        self.refused = 0  # writes that raised ENOSPC
        self.opened = {}  # path: times opened for writing
        self.written = {}  # path: bytes written to it

    def used(self):
        return _size(self.root)

    def free_bytes(self, path):
        return max(0, self.quota - self.used())

    def cut_next_write(self, n):
        self.cut = n

    def open(self, path, mode="r"):
        f = _real_open(path, mode)
        if ("w" in mode or "a" in mode) and path.startswith(self.root):
            self.opened[path] = self.opened.get(path, 0) + 1
            return _File(self, f, path)
        return f

    def install(self):
        outbox.open = storage.open = self.open
        storage.free_bytes = self.free_bytes
        return self
