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


class _DeadWLAN(_WLAN):
    def isconnected(self):
        return False


def test_wifi_that_never_connects_gives_up_after_its_retries():
    del CALLS[:]
    _Network.WLAN = _DeadWLAN
    try:
        wifi = {"ssid": "net", "password": "pw", "timeout_s": 1, "retries": 3}
        lines = []
        assert netboot.connect_wifi(wifi, log=lines.append) is False
        assert CALLS.count(("connect", "net")) == 3 and len(lines) == 3
    finally:
        _Network.WLAN = _WLAN


def test_ntp_that_never_answers_gives_up_after_its_retries():
    _Ntptime.fail = 99
    lines = []
    try:
        assert netboot.sync_time("ntp.example", retries=3, log=lines.append) is False
        assert len(lines) == 3 and "110" in lines[0]
    finally:
        _Ntptime.fail = 0


def test_boot_reports_wifi_and_ntp_failures_and_returns_unsynced():
    from gesture import app, config

    cfg = config.merge(config.DEFAULTS, {"api_url": "https://a", "api_key": "k"})
    logged = []
    app.log = lambda *parts: logged.append(" ".join(str(p) for p in parts))
    _Network.WLAN = _DeadWLAN
    try:
        assert app.boot(cfg) is False
        assert any(line.startswith("gs-wifi failed") for line in logged), logged
        _Network.WLAN = _WLAN
        _Ntptime.fail = 99
        del logged[:]
        assert app.boot(cfg) is False
        assert any(line.startswith("gs-ntp failed") for line in logged), logged
        _Ntptime.fail = 0
        assert app.boot(cfg) is True
    finally:
        _Network.WLAN = _WLAN
        _Ntptime.fail = 0
        app.log = print


class _Gmtime2000:
    """The ESP32's time module: the epoch is 2000-01-01, time_ns counts from there."""

    @staticmethod
    def gmtime(t=0):
        return (2000, 1, 1, 0, 0, 0, 5, 1)

    @staticmethod
    def time_ns():
        return 830_000_000 * 1_000_000_000  # 2026-04-20T... counted from 2000


def test_the_esp32_epoch_2000_is_moved_to_1970():
    saved_time = sys.modules.get("time")
    with open(netboot.__file__) as f:
        source = f.read()
    esp = {"__name__": "netboot_on_esp32"}
    sys.modules["time"] = _Gmtime2000  # what `import time` finds while the module loads
    try:
        exec(source, esp)
    finally:
        if saved_time is None:
            del sys.modules["time"]
        else:
            sys.modules["time"] = saved_time
    assert esp["EPOCH_OFFSET_S"] == 946684800
    assert esp["epoch_ms"]() == (830_000_000 + 946_684_800) * 1000
    assert netboot.EPOCH_OFFSET_S == 0  # the unix port counts from 1970 already


class _Dog:
    fed = 0

    def feed(self):
        _Dog.fed += 1


def test_the_board_loop_survives_an_iteration_that_raises():
    from gesture import app as app_mod

    class _Board:
        slept = []

        def sleep_ms(self, ms):
            self.slept.append(ms)

    steps = []

    def step():
        steps.append(1)
        if len(steps) == 1:
            raise OSError(28)  # ENOSPC: flash full

    class _Loop(app_mod.App):
        def __init__(self):  # only what loop_once uses
            pass

    fake = _Loop()
    fake.cfg = {"loop_ms": 50}
    fake.board = _Board()
    fake.errors = 0
    fake.step = step
    logged = []
    app_mod.log = lambda *parts: logged.append(" ".join(str(p) for p in parts))
    try:
        dog = _Dog()
        fake.loop_once(dog)
        fake.loop_once(dog)
    finally:
        app_mod.log = print
    assert len(steps) == 2 and fake.errors == 1 and _Dog.fed == 2
    assert logged == ["gs-error OSError(28,)"] or logged[0].startswith("gs-error OSError"), logged
    assert fake.board.slept == [1000, 50, 50]


def test_a_verdict_the_full_flash_cannot_record_still_takes_effect():
    """trial.reject / trial.passed raise ENOSPC: the bad model is rolled back all the same (the
    "trying" marker on flash makes the next boot reject it too), a good one is trusted, and
    neither stops the loop."""
    from gesture import app as app_mod

    class _Trial:
        bad = []

        def reject(self, version):
            raise OSError(28)

        def passed(self):
            raise OSError(28)

    class _Scorer:
        on_probation, errors = True, 0

        def __init__(self, failed, passed):
            self.failed, self.passed = failed, passed

    class _Board:
        def ticks_ms(self):
            return 1234

    class _Loop(app_mod.App):
        def __init__(self):  # only what judge_model uses
            pass

    rolled = []
    saved_roll_back = app_mod.modelstore.roll_back
    app_mod.modelstore.roll_back = rolled.append
    logged = []
    app_mod.log = lambda *parts: logged.append(" ".join(str(p) for p in parts))
    try:
        for failed, passed in (("error X", False), (None, True)):
            fake = _Loop()
            fake.scorer, fake.trial, fake.board = _Scorer(failed, passed), _Trial(), _Board()
            fake.model_version, fake.cfg, fake.next_heartbeat = "v2", {"model_dir": "m"}, 0
            fake._load_current = lambda: None
            fake.judge_model()  # must not raise
            assert fake.next_heartbeat == 1234  # the fleet hears of it at once
    finally:
        app_mod.modelstore.roll_back = saved_roll_back
        app_mod.log = print
    assert rolled == ["m"]  # the failed one only
    assert any(line.startswith("gs-model rejected version=v2") for line in logged), logged
    assert any(line.startswith("gs-model trusted version=v2") for line in logged), logged
    assert sum("verdict not recorded" in line for line in logged) == 2, logged
