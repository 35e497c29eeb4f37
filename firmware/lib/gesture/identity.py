"""Event identity that no clock can change: `<boot>-<n>`.

`boot` is a counter on flash, incremented and written (atomically) at every start before any
event exists, so a power cut or a watchdog reset can never hand out the same id twice; `n`
counts the events of this boot in RAM. The API stores an event once per id, whatever time it
carries, so a retry after the clock was corrected is still the same event.
"""

from gesture import storage


class Identity:
    def __init__(self, data_dir):
        storage.makedirs(data_dir)
        self._path = data_dir + "/boot"
        last = 0
        if storage.exists(self._path):
            with open(self._path) as f:
                last = int(f.read().strip())  # written atomically: never torn
        self.boot = last + 1
        storage.write_atomic(self._path, str(self.boot))
        self.n = 0

    def next_id(self):
        self.n += 1
        return f"{self.boot}-{self.n}"


def boot_of(event_id):
    """The boot counter of an id (None for a record without one, from older firmware)."""
    if not event_id:
        return None
    return int(event_id.split("-")[0])
