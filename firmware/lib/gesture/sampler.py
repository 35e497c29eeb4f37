"""Capture-rate sampling: a timer callback burst-reads the IMU into the ring; the app loop drains
the ring into the detector. Neither side allocates per sample."""


class Sampler:
    """Reads one IMU sample per timer tick into a SampleRing; counts bus errors and overruns."""

    def __init__(self, imu, ring):
        self.imu = imu
        self.ring = ring
        self.bus_errors = 0
        self._tick_cb = self.tick  # bind once: taking a bound method allocates

    def start(self, board, hz):
        """Start the capture timer at `hz`."""
        self._timer = board.timer(self._tick_cb, hz)

    def stop(self):
        timer = getattr(self, "_timer", None)
        if timer is not None:
            timer.deinit()
            self._timer = None

    def tick(self, _timer=None):
        """Timer callback: one burst read into the next ring slot.

        Kept small (the bus read and its error handling live in _read) so the VM runs it with
        its frame on the C stack: not even a transient heap block per sample.
        """
        offset = self.ring.write_offset()
        if offset < 0:
            self.ring.overruns += 1
        elif self._read(offset):
            self.ring.commit()

    def _read(self, offset):
        try:
            self.imu.read_counts_into(self.ring.buf, offset)
            return True
        except OSError:
            self.bus_errors += 1
            return False

    def drain(self, detector, on_event, limit=1000):
        """Push up to `limit` unread samples into the detector; call on_event(ev) per event."""
        ring = self.ring
        buf = ring.buf
        capacity = ring.capacity
        index = ring.consumed
        end = min(ring.written, index + limit)
        n = end - index
        while index < end:
            o = (index % capacity) * 6
            ev = detector.push(buf[o], buf[o + 1], buf[o + 2], buf[o + 3], buf[o + 4], buf[o + 5])
            index += 1
            ring.consumed = index  # the consumer owns `consumed` (see gesture.ring)
            if ev is not None:
                on_event(ev)
        return n
