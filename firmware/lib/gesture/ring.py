"""Preallocated ring of int16 IMU samples: one producer (the timer), one consumer (the app loop).

The producer owns `written`, the consumer owns `consumed`; neither touches the other's counter,
so no lock is needed between a timer callback and the main loop. When the consumer falls a full
ring behind, new samples are dropped and counted in `overruns` (older, unread data is kept).
Consumed samples stay readable until overwritten: capture mode copies windows out of that history.
Counters are small ints: on a 32-bit port they stay allocation-free for 2**30 samples (124 days).
"""

from array import array

WIDTH = 6  # acc xyz, gyro xyz


class SampleRing:
    """`capacity` samples of six int16 counts in one array; nothing is allocated after __init__."""

    def __init__(self, capacity):
        if capacity < 2:
            raise ValueError("capacity must be at least 2")
        self.capacity = capacity
        self.buf = array("h", bytes(2 * WIDTH * capacity))
        self.written = 0
        self.consumed = 0
        self.overruns = 0

    def write_offset(self):
        """Offset in `buf` for the next sample, or -1 if the ring is full of unread samples."""
        if self.written - self.consumed >= self.capacity:
            return -1
        return (self.written % self.capacity) * WIDTH

    def commit(self):
        """Publish the sample written at write_offset()."""
        self.written += 1

    def pending(self):
        """Samples written but not consumed yet."""
        return self.written - self.consumed

    def read_offset(self):
        """Offset in `buf` of the oldest unread sample (check pending() first)."""
        return (self.consumed % self.capacity) * WIDTH

    def release(self):
        """Mark the oldest unread sample consumed."""
        self.consumed += 1

    def available(self, index):
        """True if sample number `index` is still in the ring (written and not overwritten)."""
        return self.written - self.capacity <= index < self.written

    def copy_window(self, start, count, out):
        """Copy samples start..start+count-1 into `out` (a list or array of 6*count values)."""
        if not (self.available(start) and self.available(start + count - 1)):
            raise ValueError("window not in ring")
        buf = self.buf
        j = 0
        for index in range(start, start + count):
            o = (index % self.capacity) * WIDTH
            for k in range(WIDTH):
                out[j] = buf[o + k]
                j += 1
        return out
