"""A device whose clock and NTP are scripted (run by the scenario tests under micropython).

usage: micropython mp_device.py CONFIG.json — the config's "sim" entry says how the board's
clock behaves: {"rtc_ms": wall time the RTC shows at start (an unset ESP32 RTC says
2000-01-01), "real_ms": the true wall time at start, "ntp_ok_on": the NTP attempt that first
answers (1 = at boot)}. Both clocks then advance with the board's (fake) clock. Prints the
app's gs- log lines, like firmware/main.py.
"""

import json
import sys

from gesture import config, storage
from gesture.app import App
from gesture.hal import SimulatedBoard


class ScriptedNet:
    """netboot look-alike: NTP fails until attempt `ntp_ok_on`; the wall clock jumps then."""

    def __init__(self, board, rtc_ms, real_ms, ntp_ok_on):
        self.board = board
        self.rtc_ms = rtc_ms
        self.real_ms = real_ms
        self.ntp_ok_on = ntp_ok_on
        self.attempts = 0
        self.synced = False

    def epoch_ms(self):
        base = self.real_ms if self.synced else self.rtc_ms
        return base + self.board.ticks_ms()

    def kick_wifi(self, wifi):
        pass

    def sync_time(self, host, retries=3, log=print):
        for _ in range(retries):
            self.attempts += 1
            self.synced = self.attempts >= self.ntp_ok_on
            print("gs-test ntp attempt", self.attempts, "ok" if self.synced else "failed")
            if self.synced:
                return True
        return False


with open(sys.argv[1]) as f:
    raw = json.load(f)
sim = raw.pop("sim")
cfg = config.validate(config.merge(config.DEFAULTS, raw))
storage.makedirs(cfg["data_dir"])
board = SimulatedBoard(cfg)
net = ScriptedNet(board, sim["rtc_ms"], sim["real_ms"], sim["ntp_ok_on"])
synced = net.sync_time(cfg["ntp_host"], retries=1)  # boot(): the first NTP attempt
app = App(cfg, board, clock_synced=synced, net=net)
app.run()
