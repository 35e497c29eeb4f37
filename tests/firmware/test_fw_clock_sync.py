"""NTP down at boot: events are held (their provisional times would be rejected), then moved
onto the real clock and delivered once NTP answers."""

import json
import re

from fw_fake_api import FakeApi
from fw_harness import (
    MP_TESTS,
    device_config,
    queued,
    run_micropython,
    stored,
    write_synthetic_recording,
)

UNSYNCED = 946684800000
REAL = 1795000000000


def test_events_wait_for_the_clock_then_carry_real_times(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    config = device_config(tmp_path, "", recording, clock_retry_s=8)  # NTP tries at 0 s, 8 s, 16 s
    with FakeApi() as api:
        config["api_url"] = api.url
        (tmp_path / "config.json").write_text(json.dumps(config))
        result = run_micropython([str(MP_TESTS / "mp_clock_sync.py"), "config.json"], cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    provisional = queued(out)
    assert len(provisional) >= 3 and all(t < 10**12 for _, _, t in provisional)
    delta = int(re.search(r"gs-clock synced: queued times moved by (-?\d+) ms", out).group(1))
    assert stored(api) == [(seq, g, t + delta) for seq, g, t in provisional]
    # re-anchored on the synced clock at the moment of sync (16 s into the 20 s recording)
    assert all(REAL - 16_000 <= t <= REAL for _, _, t in stored(api))
    assert "ntp attempt 3 ok" in out
    assert all(t["t_ms"] > 10**12 for t in api.telemetry)
