"""Sliding window of raw IMU counts at the model rate: decimation + int16 ring buffer.

Runs unchanged under CPython and MicroPython. `push` stores one 100 Hz capture sample when the
decimation counter says so and allocates nothing; callers read the window in time order with
`value(k, s)` (k = 0 oldest .. length-1 newest, s = signal index in acc_x..gyro_z order).
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
        self._buf = array("h", bytes(2 * N_SIGNALS * length))
        self.reset()

    def reset(self):
        """Forget every stored sample."""
        self._head = 0  # slot the next kept sample goes to (also the oldest stored sample)
        self._phase = 0  # capture samples since the last kept one, modulo decimation
        self.filled = 0  # kept samples stored, saturating at length

    def push(self, ax, ay, az, gx, gy, gz):
        """Offer one capture sample; returns True when it was kept (one model-rate step)."""
        phase = self._phase
        self._phase = phase + 1 if phase + 1 < self.decimation else 0
        if phase:
            return False
        buf = self._buf
        i = self._head * N_SIGNALS
        buf[i] = ax
        buf[i + 1] = ay
        buf[i + 2] = az
        buf[i + 3] = gx
        buf[i + 4] = gy
        buf[i + 5] = gz
        head = self._head + 1
        self._head = head if head < self.length else 0
        if self.filled < self.length:
            self.filled += 1
        return True

    @property
    def full(self):
        return self.filled == self.length

    @property
    def buffer(self):
        """The int16 ring: row r holds signals r*6 .. r*6+5; `oldest` is the first row in time."""
        return self._buf

    @property
    def oldest(self):
        return self._head if self.filled == self.length else 0

    def value(self, k, s):
        """Raw count of signal s at position k (0 = oldest) of a full window."""
        j = self._head + k
        if j >= self.length:
            j -= self.length
        return self._buf[j * N_SIGNALS + s]
