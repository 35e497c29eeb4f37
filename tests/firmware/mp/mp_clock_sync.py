"""Device whose NTP fails at boot (run by test_fw_clock_sync.py under micropython).

usage: micropython mp_clock_sync.py CONFIG.json — prints the app's gs- log lines."""

import json
import sys

from gesture import config
from gesture.app import App
from gesture.hal import SimulatedBoard

UNSYNCED_EPOCH_MS = 946684800000  # an ESP32 RTC that was never set: 2000-01-01
REAL_EPOCH_MS = 1795000000000


class FlakyNtp:
    """NTP fails twice, then answers; the wall clock jumps when it does."""

    def __init__(self):
        self.attempts = 0
        self.synced = False

    def epoch_ms(self):
        return REAL_EPOCH_MS if self.synced else UNSYNCED_EPOCH_MS

    def kick_wifi(self, wifi):
        pass

    def sync_time(self, host, retries=3, log=print):
        self.attempts += 1
        self.synced = self.attempts >= 3
        print("gs-test ntp attempt", self.attempts, "ok" if self.synced else "failed")
        return self.synced


with open(sys.argv[1]) as f:
    cfg = config.validate(config.merge(config.DEFAULTS, json.load(f)))
app = App(cfg, SimulatedBoard(cfg), clock_synced=False, net=FlakyNtp())
app.run()
