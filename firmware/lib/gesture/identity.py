"""Event identity that no clock can change: `<boot>-<n>`.

`boot` is a counter on flash, incremented and written (atomically) at every start before any
event exists, so a power cut or a watchdog reset can never hand out the same id twice; `n`
counts the events of this boot in RAM. The API stores an event once per id, whatever time it
carries, so a retry after the clock was corrected is still the same event.

If the flash is too full to write the counter, the boot goes on but hands out no id
(`next_id` returns None: the event cannot be kept, the caller counts it) until the counter is
written: ids of an unwritten boot would come again after a reboot, and the API would take
those events for ones it already stored.
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
        self.n = 0
        self.saved = False
        self._save()

    def _save(self):
        try:
            storage.write_atomic(self._path, str(self.boot))
            self.saved = True
        except OSError:  # flash full: tried again before the next id
            pass

    def next_id(self):
        """The next event id, or None while the boot counter is not on flash."""
        if not self.saved:
            self._save()
            if not self.saved:
                return None
        self.n += 1
        return f"{self.boot}-{self.n}"


def boot_of(event_id):
    """The boot counter of an id (None for a record without one, from older firmware)."""
    if not event_id:
        return None
    return int(event_id.split("-")[0])
