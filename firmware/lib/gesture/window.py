"""Sliding window of raw IMU counts at the model rate: decimation + int16 ring buffer.

Runs unchanged under CPython and MicroPython. `push` stores one 100 Hz capture sample when the
decimation counter says so and allocates nothing. Layout (what the exported model reads): one
int16 array, a block of 2 * length per signal (acc_x..gyro_z); each kept sample is written
twice, at slot h and h + length of its signal's block, so the window in time order is always
one contiguous run: signal s at position k (0 = oldest) is `buffer[s * 2 * length + oldest + k]`.
`views[oldest]` is that run without the offset (one preallocated memoryview per possible
oldest slot): `views[oldest][s * 2 * length + k]`, what the model reads at fixed positions.
A block holds exactly the window's values (twice), so min/max of a signal is min/max of its
block. The sample pushed out of the window is kept in `evicted` for running sums.
"""

from array import array

try:
    from micropython import const
except ImportError:

    def const(x):
        return x


N_SIGNALS = const(6)


class RawWindow:
    """The last `length` samples kept out of every `decimation` capture samples (int16 counts)."""

    def __init__(self, length, decimation):
        if length < 2 or decimation < 1:
            raise ValueError("window length must be >= 2 and decimation >= 1")
        self.length = length
        self.decimation = decimation
        self.block = 2 * length  # int16 values per signal
        self.buffer = array("h", bytes(2 * N_SIGNALS * self.block))  # the layout above
        self.evicted = array("h", bytes(2 * N_SIGNALS))  # the sample the last push dropped
        whole = memoryview(self.buffer)
        self.views = tuple(whole[h:] for h in range(length))  # the buffer from slot h on
        self.reset()

    def reset(self):
        """Forget every stored sample (the window reads as zeros until it fills again)."""
        buf = self.buffer
        for i in range(len(buf)):
            buf[i] = 0
        for i in range(N_SIGNALS):
            self.evicted[i] = 0
        self.oldest = 0  # slot of the oldest stored sample, where the next kept one goes
        self._phase = 0  # capture samples since the last kept one, modulo decimation
        self.filled = 0  # kept samples stored, saturating at length

    def push(self, ax, ay, az, gx, gy, gz):
        """Offer one capture sample; returns True when it was kept (one model-rate step)."""
        phase = self._phase
        self._phase = phase + 1 if phase + 1 < self.decimation else 0
        if phase:
            return False
        buf = self.buffer
        ev = self.evicted
        n = self.length
        step = self.block
        o = self.oldest
        ev[0] = buf[o]
        buf[o] = ax
        buf[o + n] = ax
        o += step
        ev[1] = buf[o]
        buf[o] = ay
        buf[o + n] = ay
        o += step
        ev[2] = buf[o]
        buf[o] = az
        buf[o + n] = az
        o += step
        ev[3] = buf[o]
        buf[o] = gx
        buf[o + n] = gx
        o += step
        ev[4] = buf[o]
        buf[o] = gy
        buf[o + n] = gy
        o += step
        ev[5] = buf[o]
        buf[o] = gz
        buf[o + n] = gz
        head = self.oldest + 1
        self.oldest = head if head < n else 0
        if self.filled < n:
            self.filled += 1
        return True

    @property
    def full(self):
        return self.filled == self.length

    def value(self, k, s):
        """Raw count of signal s at position k (0 = oldest) of a full window."""
        return self.buffer[s * self.block + self.oldest + k]
