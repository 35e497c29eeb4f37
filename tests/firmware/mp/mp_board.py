"""The ESP32-only code paths (hal.Esp32Board, netboot) run against stand-ins for the board's
machine/network/ntptime modules, so they are at least executed and checked (under micropython)."""

import sys
import time

CALLS = []


class _Pin:
    def __init__(self, n):
        self.n = n


class _I2C:
    def __init__(self, bus_id, scl, sda, freq):
        CALLS.append(("I2C", bus_id, scl.n, sda.n, freq))


class _Timer:
    PERIODIC = 1

    def __init__(self, n):
        CALLS.append(("Timer", n))

    def init(self, period, mode, callback):
        CALLS.append(("Timer.init", period, mode))

    def deinit(self):
        CALLS.append(("Timer.deinit",))


class _WDT:
    def __init__(self, timeout):
        CALLS.append(("WDT", timeout))


class _Machine:
    Pin = _Pin
    I2C = _I2C
    Timer = _Timer
    WDT = _WDT

    @staticmethod
    def freq(hz):
        CALLS.append(("freq", hz))


class _WLAN:
    connected_after = 2  # isconnected() polls before the link comes up

    def __init__(self, mode):
        self.polls = 0
        self.connects = 0

    def active(self, on):
        pass

    def isconnected(self):
        self.polls += 1
        return self.connects > 0 and self.polls > self.connected_after

    def connect(self, ssid, password):
        self.connects += 1
        CALLS.append(("connect", ssid))

    def disconnect(self):
        pass

    def ifconfig(self):
        return ("10.0.0.7", "255.255.255.0", "10.0.0.1", "10.0.0.1")


class _Network:
    STA_IF = 0
    WLAN = _WLAN


class _Ntptime:
    host = None
    fail = 1

    @classmethod
    def settime(cls):
        if cls.fail:
            cls.fail -= 1
            raise OSError(110)
        CALLS.append(("ntp", cls.host))


class _Time:
    """netboot's clock: sleeping advances it instantly, so retry waits cost nothing."""

    now = 0

    @classmethod
    def sleep_ms(cls, ms):
        cls.now += ms

    @classmethod
    def ticks_ms(cls):
        return cls.now

    ticks_add = staticmethod(time.ticks_add)
    ticks_diff = staticmethod(time.ticks_diff)


sys.modules["machine"] = _Machine
sys.modules["network"] = _Network
sys.modules["ntptime"] = _Ntptime

from gesture import hal, netboot  # noqa: E402

netboot.ESP32 = True
netboot.time = _Time


def test_board_uses_the_configured_pins_timer_and_watchdog():
    from gesture import config

    cfg = config.merge(config.DEFAULTS, {})
    board = hal.Esp32Board(cfg)
    board.timer(lambda t: None, 100)
    board.watchdog(60)
    assert ("I2C", 0, 22, 21, 400000) in CALLS, CALLS
    assert ("Timer.init", 10, 1) in CALLS and ("WDT", 60000) in CALLS


def test_wifi_connects_within_the_timeout_and_ntp_retries():
    del CALLS[:]
    wifi = {"ssid": "net", "password": "pw", "timeout_s": 1, "retries": 2}
    assert netboot.connect_wifi(wifi, log=lambda *a: None)
    assert CALLS.count(("connect", "net")) == 1
    assert netboot.sync_time("ntp.example", retries=2, log=lambda *a: None)
    assert ("ntp", "ntp.example") in CALLS
    netboot.set_cpu(160)
    assert ("freq", 160000000) in CALLS


def test_kick_wifi_reconnects_without_waiting():
    del CALLS[:]
    netboot.kick_wifi({"ssid": "net", "password": "pw"})
    assert CALLS == [("connect", "net")]
