"""Unix-port stand-ins for the board: an MPU6500 register map on a fake I2C bus, a recording
replayed through it, a fake clock and a timer driven by that clock."""

import errno

from gesture import units
from micropython import const

_ACCEL_XOUT_H = const(0x3B)
_PWR_MGMT_1 = const(0x6B)
_WHO_AM_I = const(0x75)
_RESET = const(0x80)


class FakeMPU6500Bus:
    """An I2C bus with one MPU6500 register map at `address`; `fault = True` makes it fail."""

    def __init__(self, address=0x68, whoami=0x70):
        self.address = address
        self.regs = bytearray(128)
        self.regs[_WHO_AM_I] = whoami
        self.regs[_PWR_MGMT_1] = 0x40  # sleep bit set after power-on
        self.writes = []
        self.fault = False

    def _check(self, addr):
        if self.fault:
            raise OSError(errno.EIO)
        if addr != self.address:
            raise OSError(errno.ENODEV)

    def writeto_mem(self, addr, reg, buf):
        self._check(addr)
        for i, b in enumerate(buf):
            self.writes.append((reg + i, b))
            self.regs[reg + i] = b & ~_RESET if reg + i == _PWR_MGMT_1 else b

    def readfrom_mem_into(self, addr, reg, buf):
        self._check(addr)
        if reg == _ACCEL_XOUT_H and len(buf) == 14:
            self.on_burst()
        regs = self.regs
        for i in range(len(buf)):
            buf[i] = regs[reg + i]

    def readfrom_mem(self, addr, reg, n):
        buf = bytearray(n)
        self.readfrom_mem_into(addr, reg, buf)
        return buf

    def on_burst(self):
        """Called before a burst read of the data registers; subclasses load the next sample."""

    def set_counts(self, ax, ay, az, gx, gy, gz, temp=0):
        """Put six int16 counts (and a raw temperature) into the data registers."""
        self._put(0, ax)
        self._put(2, ay)
        self._put(4, az)
        self._put(6, temp)
        self._put(8, gx)
        self._put(10, gy)
        self._put(12, gz)

    def _put(self, offset, value):
        value &= 0xFFFF
        self.regs[_ACCEL_XOUT_H + offset] = value >> 8
        self.regs[_ACCEL_XOUT_H + offset + 1] = value & 0xFF


def _split(line):
    return line.strip().split(",")


def counts_from_si_csv(path):
    """Yield int16 counts per row of an SI recording CSV (acc_x..gyro_z,ms) via units.si_to_raw."""
    with open(path) as f:
        header = _split(f.readline())
        if header[:6] != list(units.SIGNALS):
            raise ValueError("{}: header must start with {}".format(path, ",".join(units.SIGNALS)))
        for line in f:
            if line.strip():
                v = _split(line)
                yield units.si_to_raw(
                    float(v[0]), float(v[1]), float(v[2]), float(v[3]), float(v[4]), float(v[5])
                )


def counts_from_counts_csv(path):
    """Yield int16 counts per row of a counts CSV (header `counts`, then six ints a row)."""
    with open(path) as f:
        if f.readline().strip() != "counts":
            raise ValueError(f"{path}: not a counts file")
        for line in f:
            if line.strip():
                v = _split(line)
                yield (int(v[0]), int(v[1]), int(v[2]), int(v[3]), int(v[4]), int(v[5]))


def open_recording(path):
    """Counts from a recording: an SI CSV or a pre-converted counts CSV."""
    with open(path) as f:
        first = f.readline().strip()
    return counts_from_counts_csv(path) if first == "counts" else counts_from_si_csv(path)


class RecordingBus(FakeMPU6500Bus):
    """A fake MPU6500 whose every burst read returns the next sample of a recording."""

    def __init__(self, samples, **kwargs):
        super().__init__(**kwargs)
        self._samples = iter(samples)
        self.samples_read = 0
        self.exhausted = False

    def on_burst(self):
        try:
            s = next(self._samples)
        except StopIteration:
            self.exhausted = True
            raise OSError(errno.EIO) from None
        self.set_counts(s[0], s[1], s[2], s[3], s[4], s[5])
        self.samples_read += 1


class FakeClock:
    """Millisecond clock that only moves when slept; wakes timers that fall due."""

    def __init__(self, start_ms=0):
        self.now = start_ms
        self.timers = []

    def ticks_ms(self):
        return self.now

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        end = self.now + ms
        while True:
            due = None
            for t in self.timers:
                if t.next_ms is not None and t.next_ms <= end and (due is None or t.next_ms < due):
                    due = t.next_ms
            if due is None:
                break
            self.now = due
            for t in self.timers:
                if t.next_ms == due:
                    t.fire()
        self.now = end


class FakeTimer:
    """machine.Timer look-alike (periodic mode) driven by a FakeClock."""

    PERIODIC = 1

    def __init__(self, clock):
        self.clock = clock
        self.next_ms = None
        clock.timers.append(self)

    def init(self, freq=None, period=None, mode=PERIODIC, callback=None):
        self.period = period if period is not None else 1000 // freq
        self.callback = callback
        self.next_ms = self.clock.now + self.period

    def deinit(self):
        self.next_ms = None

    def fire(self):
        self.next_ms += self.period
        self.callback(self)
