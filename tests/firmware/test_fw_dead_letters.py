"""The dead-letter files are bounded (`dead_letter_records` per file, the file before kept), the
records evicted from them are counted (`dead_evicted`), and what is kept stays readable: the
real firmware under micropython against an API that rejects every event."""

import json
import re

from fw_fake_api import FakeApi
from fw_harness import device_config, queued_events, run_firmware, write_synthetic_recording

REJECT_ALL = {
    "status": 400,
    "body": b'{"error":"invalid_input","message":"no","errors":[{"index":0,"message":"no"},'
    b'{"index":1,"message":"no"}]}',
}


def lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_dead_letters_are_bounded_counted_and_readable(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1, duration_s=40)
    with FakeApi(script=[REJECT_ALL] * 100) as api:
        config = device_config(tmp_path, api.url, recording, dead_letter_records=2)
        result = run_firmware(config, tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    made = queued_events(out)
    assert len(made) >= 5 and api.events == []
    data = tmp_path / "data"
    newest, older = lines(data / "events.dead"), lines(data / "events.dead.1")
    assert 1 <= len(newest) <= 2 and len(older) == 2  # never more than 2 x 2 on flash
    kept = [d["record"]["id"] for d in older + newest]
    assert kept == [e["id"] for e in made[-len(kept) :]]  # the newest, oldest first
    assert all(d["status"] == 400 and d["error"]["message"] == "no" for d in older + newest)
    evicted = len(made) - len(kept)
    assert (
        f"pending=0 dropped=0 dropped_full=0 dead_letters={len(made)} dead_evicted={evicted}" in out
    )
    # heartbeats carry the eviction count as the device logged it when it made them
    logged = [int(n) for n in re.findall(r"gs-telemetry .* dead_evicted=(\d+)", out)]
    assert [b["dead_evicted"] for b in api.telemetry] == logged[: len(api.telemetry)]
    assert max(logged) > 0
