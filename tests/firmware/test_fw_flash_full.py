"""A full flash during an outage, under the real micropython with the firmware's own loop: every
event the device cannot keep is counted (persisted, in telemetry, logged); the events it kept
are delivered once when the outage ends; sampling and detection go on meanwhile.

The flash is tests/firmware/mp/mp_flash.FakeFlash: a byte quota on the data folder (writes past
it raise ENOSPC after writing what fits; storage.free_bytes answers what is left).
"""

import json
import re

import pytest
from fw_fake_api import FakeApi
from fw_harness import (
    MP_TESTS,
    device_config,
    free_port,
    queued_events,
    run_micropython,
    write_synthetic_recording,
)

DROPPED = re.compile(r"gs-dropped seq=(\d+) id=(\S+) gesture=\w+ reason=flash-full")
TELEMETRY = re.compile(r"gs-telemetry queue_len=(\d+) dropped=(\d+) dropped_full=(\d+)")


def run_on_small_flash(tmp_path, config, quota):
    """Run the firmware with its data folder on a flash of `quota` bytes."""
    (tmp_path / "config.json").write_text(json.dumps(config))
    (tmp_path / "small_flash.py").write_text(
        "from mp_flash import FakeFlash\n"
        f"FakeFlash({config['data_dir']!r}, {quota}).install()\n"
        "from gesture import app\n"
        "app.main('config.json')\n"
    )
    result = run_micropython(
        [str(tmp_path / "small_flash.py")], cwd=tmp_path, extra_paths=[MP_TESTS]
    )
    assert result.returncode == 0, result.stdout + result.stderr  # no crash
    return result.stdout


@pytest.mark.parametrize(
    "reserve",
    [3000, 800],
    ids=["heartbeats-fit", "even-heartbeats-refused"],
)
def test_a_full_flash_in_an_outage_counts_what_it_refused_and_delivers_the_rest_once(
    tmp_path, reserve
):
    """With the smaller reserve the heartbeats fill the flash too: the one at the next boot is
    refused and made again as soon as the delivered events have made room."""
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1, duration_s=40)
    samples = len(recording.read_text().splitlines()) - 1
    quota = reserve + 1500  # room for a handful of events, the state files, a few heartbeats
    down = f"http://127.0.0.1:{free_port()}"
    config = device_config(
        tmp_path, down, recording, flash_reserve_bytes=reserve, drain_s=0.5, telemetry_capacity=4
    )
    first = run_on_small_flash(tmp_path, config, quota)
    kept = queued_events(first)
    refused = DROPPED.findall(first)
    assert len(kept) >= 2 and len(refused) >= 2, first
    # sampling and detection went on after the flash filled: events kept being detected, the
    # recording was read to its end, and every detected event is either kept or counted
    assert f"gs-recording-end samples={samples}" in first
    seqs = sorted([e["seq"] for e in kept] + [int(s) for s, _ in refused])
    assert seqs == list(range(1, len(seqs) + 1))
    assert max(seqs) > int(refused[0][0])  # detection went on after the first refusal
    assert f"dropped={len(refused)} dropped_full={len(refused)} dead_letters=0" in first

    # the outage ends; the device reboots (same flash), lies still for 2 s (a heartbeat, no
    # gesture) and delivers
    header, row = recording.read_text().splitlines()[:2]
    still = tmp_path / "still.csv"
    still.write_text(header + "\n" + (row + "\n") * 200)
    with FakeApi() as api:
        config = {**config, "api_url": api.url, "recording": str(still), "drain_s": 20}
        second = run_on_small_flash(tmp_path, config, quota)
    assert [e["id"] for e in api.events] == [e["id"] for e in kept]  # each kept one, once
    assert "pending=0" in second, second
    if reserve < 1000:
        assert "gs-dropped heartbeat reason=flash-full" in second
    # the count survived the reboot and reached the API: the newest heartbeat says exactly
    # what was not kept, and every heartbeat says what the device logged when it made it
    beats = api.telemetry
    assert beats and (beats[-1]["dropped"], beats[-1]["dropped_full"]) == (
        len(refused),
        len(refused),
    ), second
    stored = [e["id"] for e in api.events]
    print(
        f"scenario flash-full-outage reserve={reserve}: detected={len(seqs)} kept={len(kept)}"
        f" refused={len(refused)} counted={beats[-1]['dropped_full']} stored={len(set(stored))}"
        f" stored-twice={len(stored) - len(set(stored))}"
    )
    logged = [tuple(map(int, t)) for t in TELEMETRY.findall(first + second)]
    sent = [(b["queue_len"], b["dropped"], b["dropped_full"]) for b in beats]
    assert sent == logged[-len(sent) :]


def test_a_flash_full_from_the_start_keeps_the_device_running_and_counts_every_event(tmp_path):
    """Not a byte free at boot: not even the boot counter can be written, so no event can get
    a safe id. The device boots, samples and detects to the end, and counts every event
    (in RAM and on the console: with no byte free nothing can be persisted)."""
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1, duration_s=20)
    samples = len(recording.read_text().splitlines()) - 1
    down = f"http://127.0.0.1:{free_port()}"
    config = device_config(tmp_path, down, recording, drain_s=0.5)
    out = run_on_small_flash(tmp_path, config, 0)
    refused = re.findall(r"gs-dropped gesture=\w+ reason=flash-full \(boot counter", out)
    assert refused and "gs-queued" not in out
    assert f"gs-recording-end samples={samples}" in out
    assert f"pending=0 dropped={len(refused)} dropped_full={len(refused)}" in out
