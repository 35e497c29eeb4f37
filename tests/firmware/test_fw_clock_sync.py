"""NTP down at boot: events are held (their provisional times would be rejected), then moved
onto the real clock and delivered once NTP answers."""

import json
import re

from fw_fake_api import FakeApi
from fw_harness import (
    MP_TESTS,
    device_config,
    queued_events,
    run_micropython,
    stored,
    write_synthetic_recording,
)

UNSYNCED = 946684800000
REAL = 1795000000000


def test_events_wait_for_the_clock_then_carry_real_times(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    config = device_config(tmp_path, "", recording, clock_retry_s=6)  # NTP tries at 6 s, 12 s, 18 s
    with FakeApi() as api:
        config["api_url"] = api.url
        (tmp_path / "config.json").write_text(json.dumps(config))
        result = run_micropython([str(MP_TESTS / "mp_clock_sync.py"), "config.json"], cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    provisional = queued_events(out)
    assert len(provisional) >= 3 and all("boot_ms" in e for e in provisional)
    t0 = int(re.search(r"gs-clock synced: t0_ms=(-?\d+) resolved=(\d+)", out).group(1))
    assert stored(api) == [(e["seq"], e["gesture"], t0 + e["boot_ms"]) for e in provisional]
    assert [e["id"] for e in api.events] == [e["id"] for e in provisional]
    # re-anchored on the synced clock at the moment of sync (18 s into the 20 s recording)
    assert all(REAL - 18_000 <= t <= REAL for _, _, t in stored(api))
    assert "ntp attempt 3 ok" in out
    assert all(t["t_ms"] > 10**12 for t in api.telemetry)
