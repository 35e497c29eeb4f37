"""Field faults against the firmware under micropython, counted: events queued by the device
against events stored (0 lost, 0 stored twice).

Where the question is what the API stores (idempotency), the real handlers answer (the local
API over moto), with the fake API in front as a proxy that loses or truncates their answers.
Each test prints a `scenario` line; the table in the firmware README comes from
`.venv/bin/pytest tests/firmware/test_fw_scenarios.py -p no:xdist -s | grep ^scenario`.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from fw_fake_api import FakeApi
from fw_harness import (
    FIRMWARE,
    MICROPYTHON,
    MP_TESTS,
    device_config,
    micropython_env,
    queued_events,
    run_firmware,
    run_micropython,
    tally,
    write_rules_model,
    write_synthetic_recording,
)

from localcloud.server import LocalCloud

RTC_UNSET_MS = 946_684_800_000  # an ESP32 RTC after a power cycle: 2000-01-01


@contextmanager
def cloud_running_the_device_model(tmp_path: Path):
    """The real API (local cloud) with the model the test device runs published, as in the
    field: a device runs a released model, and POST /events accepts only the gestures of
    published releases (the fleet's vocabulary)."""
    with LocalCloud(port=0) as local:
        local.publish_model(write_rules_model(tmp_path / "release"))
        yield local


def report(name: str, numbers: dict) -> dict:
    print(
        f"scenario {name} queued={numbers['queued']} stored={numbers['stored']}"
        f" lost={numbers['lost']} duplicated={numbers['duplicated']}"
    )
    return numbers


def api_events(api: LocalCloud, key: str) -> list[dict]:
    """Every event the real API stored for this key's device."""
    now = int(time.time() * 1000)
    url = f"{api.url}/events?from={now - 20 * 86_400_000}&to={now + 86_400_000}&limit=500"
    request = urllib.request.Request(url, headers={"x-api-key": key})
    with urllib.request.urlopen(request) as resp:
        return json.loads(resp.read())["items"]


def power_cut_after(config: dict, cwd: Path, stop) -> str:
    """Run the firmware and kill -9 it as soon as stop(lines) is true: its log so far."""
    (cwd / "config.json").write_text(json.dumps(config))
    proc = subprocess.Popen(
        [str(MICROPYTHON), str(FIRMWARE / "main.py"), "config.json"],
        cwd=cwd,
        env=micropython_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if stop(lines):
                break
    finally:
        proc.kill()  # power cut: no clean shutdown
        proc.wait()
    return "".join(lines)


def boot_with_clock(config: dict, cwd: Path, rtc_ms: int, real_ms: int, ntp_ok_on: int):
    """Run the firmware with an RTC showing rtc_ms and NTP answering on attempt ntp_ok_on."""
    sim = {"rtc_ms": rtc_ms, "real_ms": real_ms, "ntp_ok_on": ntp_ok_on}
    (cwd / "config.json").write_text(json.dumps({**config, "sim": sim}))
    return run_micropython([str(MP_TESTS / "mp_device.py"), "config.json"], cwd=cwd)


def test_power_cycle_during_an_outage_with_the_rtc_reset_and_late_ntp(tmp_path):
    """Events made with a valid clock, a power cut while the API is unreachable, a reboot with
    the RTC at 2000-01-01 and NTP answering only on its second try, then the API is back."""
    now = int(time.time() * 1000)
    with cloud_running_the_device_model(tmp_path) as local:
        key = local.add_device("dev-outage")
        with FakeApi(upstream=local.url, script=[503] * 1000) as outage:  # unreachable API
            rec1 = write_synthetic_recording(tmp_path / "rec1.csv", seed=1, duration_s=60)
            config = device_config(tmp_path, outage.url, rec1, api_key=key, t0_ms=now - 60_000)
            before = queued_events(
                power_cut_after(
                    config, tmp_path, lambda lines: len(queued_events("".join(lines))) >= 8
                )
            )
        assert len(before) == 8 and all("t_ms" in e for e in before)
        rec2 = write_synthetic_recording(tmp_path / "rec2.csv", seed=3, duration_s=60)
        config = device_config(tmp_path, local.url, rec2, api_key=key, clock_retry_s=12)
        real = int(time.time() * 1000) - 60_000  # the recording ends about now
        result = boot_with_clock(config, tmp_path, RTC_UNSET_MS, real, ntp_ok_on=2)
        out = result.stdout
        assert result.returncode == 0, out + result.stderr
        stored = api_events(local, key)
    during = queued_events(out)
    assert "gs-test ntp attempt 1 failed" in out and "gs-test ntp attempt 2 ok" in out
    unsynced = [e for e in during if "boot_ms" in e]
    assert unsynced, out
    numbers = report("power-cycle-outage-rtc-2000-late-ntp", tally(
        [e["id"] for e in before + during], [e["id"] for e in stored]
    ))  # fmt: skip
    assert numbers["lost"] == numbers["duplicated"] == 0
    assert numbers["stored"] == len(before) + len(during)
    by_id = {e["id"]: e for e in stored}
    # made with a valid clock before the reboot: stored with exactly the time they had
    assert [by_id[e["id"]]["t_ms"] for e in before] == [e["t_ms"] for e in before]
    # made before the sync: placed by their time since boot, on the synced clock
    t0 = int(re.search(r"gs-clock synced: t0_ms=(\d+)", out).group(1))
    assert abs(t0 - real) <= 100
    assert [by_id[e["id"]]["t_ms"] for e in unsynced] == [t0 + e["boot_ms"] for e in unsynced]
    assert {by_id[e["id"]]["clock"] for e in before + during} == {"synced"}
    assert "pending=0" in out


def test_a_boot_that_ends_before_the_clock_is_set_sends_its_events_flagged(tmp_path):
    """RTC unset and NTP never answering in the first boot: its events cannot be placed in time;
    after the next boot's sync they are still delivered, flagged clock=unresolved."""
    rec = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    with cloud_running_the_device_model(tmp_path) as local:
        key = local.add_device("dev-noclock")
        config = device_config(tmp_path, local.url, rec, api_key=key, drain_s=0.5)
        now = int(time.time() * 1000)
        first = boot_with_clock(config, tmp_path, RTC_UNSET_MS, now, ntp_ok_on=99)
        assert first.returncode == 0, first.stdout + first.stderr
        lost_clock = queued_events(first.stdout)
        assert lost_clock and all("boot_ms" in e for e in lost_clock)
        empty = tmp_path / "empty.csv"
        empty.write_text(rec.read_text().splitlines()[0] + "\n")
        config = device_config(tmp_path, local.url, empty, api_key=key)
        second = boot_with_clock(config, tmp_path, RTC_UNSET_MS, now, ntp_ok_on=1)
        assert second.returncode == 0, second.stdout + second.stderr
        stored = api_events(local, key)
    numbers = report("boot-without-clock-then-reboot", tally(
        [e["id"] for e in lost_clock], [e["id"] for e in stored]
    ))  # fmt: skip
    assert numbers["lost"] == numbers["duplicated"] == 0
    assert {e["clock"] for e in stored} == {"unresolved"}
    assert sorted(e["boot_ms"] for e in stored) == sorted(e["boot_ms"] for e in lost_clock)
    assert f"unresolved={len(lost_clock)}" in second.stdout


@pytest.mark.parametrize("drift_ms", [2_000, 180_000, -120_000], ids=["+2s", "+3min", "-2min"])
def test_reboot_with_a_drifted_clock_after_a_batch_stored_whose_answer_was_lost(tmp_path, drift_ms):
    now = int(time.time() * 1000)
    rec = write_synthetic_recording(tmp_path / "rec.csv", seed=1, duration_s=60)
    with cloud_running_the_device_model(tmp_path) as local:
        key = local.add_device("dev-drift")
        # the first batch reaches the real handlers (stored), its answer never comes back
        with FakeApi(upstream=local.url, script=["lost"] + [503] * 1000) as proxy:
            config = device_config(tmp_path, proxy.url, rec, api_key=key, t0_ms=now - 120_000)
            log = power_cut_after(
                config,
                tmp_path,
                lambda lines: any(x.startswith("gs-retry") and "/events" in x for x in lines),
            )
            first_batch = [e["id"] for e in proxy.events]
        assert first_batch, "the API stored the first batch"
        before = queued_events(log)
        config = device_config(tmp_path, local.url, rec, api_key=key, clock_retry_s=6)
        real = int(time.time() * 1000) - 60_000
        result = boot_with_clock(config, tmp_path, real + drift_ms, real, ntp_ok_on=2)
        out = result.stdout
        assert result.returncode == 0, out + result.stderr
        stored = api_events(local, key)
    during = queued_events(out)
    numbers = report(f"reboot-drift-{drift_ms // 1000:+d}s-answer-lost", tally(
        [e["id"] for e in before + during], [e["id"] for e in stored]
    ))  # fmt: skip
    assert numbers["lost"] == numbers["duplicated"] == 0
    by_id = {e["id"]: e for e in stored}
    assert [by_id[e["id"]]["t_ms"] for e in before] == [e["t_ms"] for e in before]
    # the retried batch really went out again (and the API recognised it by id)
    assert "pending=0" in out


def _run_against(tmp_path, script, *, seed=1, **overrides):
    rec = write_synthetic_recording(tmp_path / "rec.csv", seed=seed)
    with FakeApi(script=script) as api:
        config = device_config(tmp_path, api.url, rec, **overrides)
        result = run_firmware(config, tmp_path)
    return api, result


NOT_OUR_API = {
    "captive-portal-200-html": "html",
    "404-html": {
        "status": 404,
        "body": b"<h1>Not Found</h1>",
        "headers": {"Content-Type": "text/html"},
    },
    "404-json": {"status": 404, "body": b'{"message":"Not Found"}'},
    "301-redirect": {"status": 301, "body": b"", "headers": {"Location": "http://portal/"}},
    "200-other-json": {"status": 200, "body": b'{"ok":true}'},
    "200-empty": {"status": 200, "body": b""},
    "500": 500,
}


@pytest.mark.parametrize("answer", list(NOT_OUR_API.values()), ids=list(NOT_OUR_API))
def test_a_server_that_is_not_our_api_removes_nothing(tmp_path, answer):
    """It answers every POST /events for the whole run; every event stays queued on flash and
    is delivered, once, after a reboot that finds the real API."""
    api, result = _run_against(tmp_path, [answer] * 10_000, drain_s=1)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    made = queued_events(out)
    assert len(made) >= 3 and api.events == []
    assert f"pending={len(made)} dropped=0" in out
    assert f"gs-sent http://127.0.0.1:{api.port}/events" not in out
    empty = tmp_path / "empty.csv"
    empty.write_text((tmp_path / "rec.csv").read_text().splitlines()[0] + "\n")
    with FakeApi() as good:
        again = run_firmware(device_config(tmp_path, good.url, empty), tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    name = next(k for k, v in NOT_OUR_API.items() if v == answer)
    numbers = report(
        f"not-our-api-{name}", tally([e["id"] for e in made], [e["id"] for e in good.events])
    )
    assert numbers["lost"] == numbers["duplicated"] == 0 and "pending=0" in again.stdout


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_honoured(tmp_path, status):
    busy = {
        "status": status,
        "body": b'{"error":"busy","message":"slow down"}',
        "headers": {"Retry-After": "4"},
    }
    api, result = _run_against(tmp_path, [busy, busy, 500])
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    waits = [
        (last, int(w))
        for last, w in re.findall(r"gs-retry \S+/events failures=\d+ last=(\S+) wait_ms=(\d+)", out)
    ]
    assert [last for last, _ in waits] == [str(status), str(status), "500"]
    assert all(w >= 4000 for _, w in waits[:2]) and waits[2][1] < 4000  # backoff_ms: 50..400
    made = queued_events(out)
    numbers = report(
        f"retry-after-{status}", tally([e["id"] for e in made], [e["id"] for e in api.events])
    )
    assert numbers["lost"] == numbers["duplicated"] == 0


def test_a_wrong_key_stops_the_route_keeps_everything_and_is_reported(tmp_path):
    api, result = _run_against(tmp_path, [], api_key="wrong-key", drain_s=5)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    made = queued_events(out)
    assert len(made) >= 3 and api.events == []
    assert "gs-auth-rejected" in out and "the API key was rejected" in out
    # one try per route, then the route stops (auth_retry_s = 3600 s)
    assert [r for r in api.requests if r[1] == "/events"] == [("POST", "/events", 403)]
    assert f"pending={len(made)}" in out and "auth=rejected 403" in out
    assert (tmp_path / "data" / "events.log").read_text().count("\n") == len(made)
    # the key is fixed (a new config, a reboot): everything goes, and telemetry tells
    empty = tmp_path / "empty.csv"
    empty.write_text((tmp_path / "rec.csv").read_text().splitlines()[0] + "\n")
    with FakeApi() as good:
        again = run_firmware(device_config(tmp_path, good.url, empty), tmp_path)
    assert again.returncode == 0 and "pending=0" in again.stdout, again.stdout
    numbers = report(
        "wrong-key-403-then-fixed", tally([e["id"] for e in made], [e["id"] for e in good.events])
    )
    assert numbers["lost"] == numbers["duplicated"] == 0
    assert max(t["auth_failures"] for t in good.telemetry) >= 1


def test_gesture_stack_device_exits_non_zero_when_the_key_is_rejected(tmp_path, capsys):
    from gesture_stack.cli import main
    from gesture_stack.device import KEY_REJECTED

    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    model = write_rules_model(tmp_path / "model")
    with FakeApi() as api:
        args = ["device", "--api", api.url, "--key", "not-the-key", "--recording", str(recording)]
        code = main(
            [*args, "--model", str(model), "--state", str(tmp_path / "dev"), "--drain-s", "5"]
        )
    captured = capsys.readouterr()
    assert code == KEY_REJECTED != 0
    assert "the API rejected the key (HTTP 403)" in captured.err
    assert "gs-auth-rejected" in captured.out


@pytest.mark.parametrize("cut", ["truncated", "truncated-chunked", "lost", "timeout"])
def test_an_answer_cut_short_keeps_the_batch_and_the_real_api_stores_it_once(tmp_path, cut):
    rec = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    now = int(time.time() * 1000)
    with cloud_running_the_device_model(tmp_path) as local:
        key = local.add_device("dev-cut")
        with FakeApi(upstream=local.url, script=[cut, cut], timeout_delay=1.5) as proxy:
            config = device_config(
                tmp_path, proxy.url, rec, api_key=key, t0_ms=now - 20_000, http_timeout_s=0.5
            )
            result = run_firmware(config, tmp_path)
        stored = api_events(local, key)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    made = [e["id"] for e in queued_events(out)]
    received = [e["id"] for e in proxy.events]
    assert len(received) > len(set(received))  # the cut batches really were sent twice
    numbers = report(f"answer-{cut}", tally(made, [e["id"] for e in stored]))
    assert numbers["lost"] == numbers["duplicated"] == 0 and numbers["stored"] == len(made)
    assert "pending=0" in out


def test_records_queued_by_older_firmware_are_delivered_after_the_upgrade(tmp_path):
    """Firmware before event ids queued seq + t_ms records; the new firmware sends them as they
    are (the API still keys them by t_ms and seq), next to its own events with ids."""
    now = int(time.time() * 1000)
    data = tmp_path / "data"
    data.mkdir()
    old = [
        {
            "gesture": g,
            "t_ms": now - 90_000 + 1000 * i,
            "score": 0.9,
            "model_version": "v0",
            "seq": i,
        }
        for i, g in enumerate(["x", "y", "circle"], start=1)
    ]
    lines = "".join(f"{r['seq']} {json.dumps(r, separators=(',', ':'))}\n" for r in old)
    (data / "events.log").write_text(lines)
    (data / "events.state").write_text('{"next_seq": 4, "acked": 0, "dropped": 0}')
    rec = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    with cloud_running_the_device_model(tmp_path) as local:
        key = local.add_device("dev-upgrade")
        with FakeApi(upstream=local.url, script=["lost"]) as proxy:  # and one answer lost
            config = device_config(tmp_path, proxy.url, rec, api_key=key, t0_ms=now - 20_000)
            result = run_firmware(config, tmp_path)
        stored = api_events(local, key)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    new = queued_events(out)
    assert [e["seq"] for e in new] == list(range(4, 4 + len(new)))
    assert {e["id"] for e in new} == {f"1-{n}" for n in range(1, len(new) + 1)}
    keys = [(e["seq"], e.get("id")) for e in stored]
    numbers = report("upgrade-with-old-records-queued", tally(
        [r["seq"] for r in old] + [e["seq"] for e in new], [s for s, _ in keys]
    ))  # fmt: skip
    assert numbers["lost"] == numbers["duplicated"] == 0
    assert sorted(keys) == sorted(
        [(r["seq"], None) for r in old] + [(e["seq"], e["id"]) for e in new]
    )
    by_seq = {e["seq"]: e for e in stored}
    assert [by_seq[r["seq"]]["t_ms"] for r in old] == [r["t_ms"] for r in old]
