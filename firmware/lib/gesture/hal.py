"""Hardware access behind one small interface, so the app runs on the ESP32 and the unix port.

`board(config)` returns an object with `i2c`, `timer(callback, hz)`, `watchdog(timeout_s)`,
`ticks_ms()`, `ticks_diff(a, b)`, `sleep_ms(ms)` and `simulated`. On the unix port the IMU is
a recording replayed through a fake MPU6500 and time is a fake clock advanced by the app loop.
"""

import sys
import time

ESP32 = sys.platform == "esp32"


class Esp32Board:
    """The real board: machine.I2C on the configured pins and a hardware timer."""

    simulated = False

    def __init__(self, config):
        from machine import I2C, Pin

        bus = config["i2c"]
        self.i2c = I2C(bus["id"], scl=Pin(bus["scl"]), sda=Pin(bus["sda"]), freq=bus["freq"])
        self._timer = None

    def timer(self, callback, hz):
        from machine import Timer

        self._timer = Timer(0)
        self._timer.init(period=1000 // hz, mode=Timer.PERIODIC, callback=callback)
        return self._timer

    def watchdog(self, timeout_s):
        """A hardware watchdog that resets the board unless fed within timeout_s."""
        from machine import WDT

        return WDT(timeout=int(timeout_s * 1000))

    def ticks_ms(self):
        return time.ticks_ms()

    def ticks_diff(self, a, b):
        return time.ticks_diff(a, b)

    def sleep_ms(self, ms):
        time.sleep_ms(ms)


class SimulatedBoard:
    """The unix port: a recording on a fake I2C bus and a fake clock driving a fake timer."""

    simulated = True

    def __init__(self, config, samples=None):
        from gesture import fakes

        if samples is None:
            samples = fakes.open_recording(config["recording"])
        self.i2c = fakes.RecordingBus(samples)
        self.clock = fakes.FakeClock()
        self._fakes = fakes

    def timer(self, callback, hz):
        t = self._fakes.FakeTimer(self.clock)
        t.init(freq=hz, callback=callback)
        return t

    def watchdog(self, timeout_s):
        return _NoWatchdog()

    @property
    def exhausted(self):
        return self.i2c.exhausted

    def ticks_ms(self):
        return self.clock.ticks_ms()

    def ticks_diff(self, a, b):
        return a - b

    def sleep_ms(self, ms):
        self.clock.sleep_ms(ms)


class _NoWatchdog:
    def feed(self):
        pass


def board(config, samples=None):
    """The board this code runs on."""
    return Esp32Board(config) if ESP32 else SimulatedBoard(config, samples)
