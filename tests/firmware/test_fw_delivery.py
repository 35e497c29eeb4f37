"""Every event arrives exactly once and in order: API answering 500, timing out, dropping
connections, down for a while, and the device rebooting with events still queued."""

import json
import re
import subprocess
import threading
import time

import pytest
from fw_fake_api import FakeApi
from fw_harness import (
    FIRMWARE,
    MICROPYTHON,
    device_config,
    free_port,
    micropython_env,
    queued,
    queued_events,
    run_firmware,
    stored,
    tally,
    write_synthetic_recording,
)


@pytest.mark.parametrize(
    "script",
    [[500, 500, 503, 500], ["timeout", "timeout"], ["drop", 500, "drop"]],
    ids=["http-500", "timeout", "dropped-connection"],
)
def test_every_event_arrives_once_in_order_despite_failures(tmp_path, script):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    with FakeApi(script=script, timeout_delay=1.5) as api:
        config = device_config(tmp_path, api.url, recording, http_timeout_s=0.5)
        result = run_firmware(config, tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    sent = queued_events(out)
    assert len(sent) >= 3
    assert [e["seq"] for e in sent] == list(range(1, len(sent) + 1))
    ids = [e["id"] for e in sent]
    received = [e["id"] for e in api.events]  # the fake keeps every copy it received
    late = script.count("timeout")  # stored, but the answer came after the device gave up
    numbers = tally(ids, received)
    assert numbers["lost"] == 0 and numbers["stored"] == len(sent)
    if late:  # re-sent with the same ids (the real API stores them once: test_fw_scenarios)
        assert 1 <= numbers["duplicated"] <= late * config["batch_size"]
        assert list(dict.fromkeys(received)) == ids
    else:
        assert received == ids
    # every scripted failure made exactly one retry of /events, and nothing else did
    retries = [x for x in out.splitlines() if x.startswith("gs-retry") and "/events" in x]
    assert len(retries) == len(script), retries
    assert "pending=0" in out
    # telemetry says what the device logged when it made each heartbeat
    logged = [int(n) for n in re.findall(r"gs-telemetry queue_len=(\d+)", out)]
    assert [t["queue_len"] for t in api.telemetry] == logged[: len(api.telemetry)]
    assert len(api.telemetry) >= 3


def test_a_rejected_event_goes_to_the_dead_letter_file_without_blocking_the_rest(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    rejected = {
        "status": 400,
        "body": b'{"error":"invalid_input","message":"events[0].t_ms: too old",'
        b'"field":"events[0].t_ms","errors":[{"index":0,"field":"events[0].t_ms",'
        b'"message":"events[0].t_ms: too old"}]}',
    }
    with FakeApi(script=[rejected]) as api:  # event 1 goes out alone as soon as it is queued
        result = run_firmware(device_config(tmp_path, api.url, recording), tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    sent = queued(out)
    assert stored(api) == sent[1:]
    assert "pending=0 dropped=0 dropped_full=0 dead_letters=1" in out
    dead = [json.loads(x) for x in (tmp_path / "data" / "events.dead").read_text().splitlines()]
    assert [(d["seq"], d["status"], d["error"]["field"]) for d in dead] == [
        (1, 400, "events[0].t_ms")
    ]
    assert dead[0]["record"]["gesture"] == sent[0][1]
    assert api.telemetry[-1]["dead_letters"] == 1


def test_api_down_then_up_delivers_everything(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    port = free_port()
    config = device_config(tmp_path, f"http://127.0.0.1:{port}", recording)
    started = threading.Event()
    holder = {}

    def start_api_later():
        time.sleep(1.5)
        holder["api"] = FakeApi(port=port).__enter__()
        started.set()

    threading.Thread(target=start_api_later, daemon=True).start()
    try:
        result = run_firmware(config, tmp_path)
    finally:
        started.wait(5)
        holder["api"].__exit__(None)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gs-retry" in result.stdout
    sent = queued(result.stdout)
    assert len(sent) >= 3 and stored(holder["api"]) == sent


def test_reboot_with_queued_events_delivers_them_after_restart(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=3)
    down = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "config.json").write_text(json.dumps(device_config(tmp_path, down, recording)))
    proc = subprocess.Popen(
        [str(MICROPYTHON), str(FIRMWARE / "main.py"), "config.json"],
        cwd=tmp_path,
        env=micropython_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    lines = []
    try:
        for line in proc.stdout:
            lines.append(line)
            if (
                line.startswith("gs-retry")
                and "/events" in line
                and any(x.startswith("gs-recording-end") for x in lines)
            ):
                break
    finally:
        proc.kill()  # power cut: no clean shutdown
        proc.wait()
    before = queued("".join(lines))
    assert len(before) >= 3

    empty = tmp_path / "empty.csv"
    empty.write_text(recording.read_text().splitlines()[0] + "\n")
    with FakeApi() as api:
        result = run_firmware(device_config(tmp_path, api.url, empty), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stored(api) == before
    assert queued(result.stdout) == []


@pytest.mark.parametrize("max_per_conn", [0, 2], ids=["kept-open", "server-closes-every-2"])
def test_one_connection_is_reused_and_a_stale_one_replaced(tmp_path, max_per_conn):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    with FakeApi(keep_alive=True, max_per_conn=max_per_conn) as api:
        config = device_config(tmp_path, api.url, recording, telemetry_period_s=2)
        result = run_firmware(config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    sent = queued(result.stdout)
    assert len(sent) >= 3 and stored(api) == sent
    assert "gs-retry" not in result.stdout  # a closed idle connection is not a failure
    posts = len([r for r in api.requests if r[0] == "POST"])
    assert posts >= 10
    if max_per_conn:
        assert api.connections == -(-len(api.requests) // max_per_conn)
    else:
        assert api.connections == 2  # the API connection, and one for GET /model (OTA)


def test_a_full_queue_drops_the_oldest_and_telemetry_reports_it(tmp_path):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    down = f"http://127.0.0.1:{free_port()}"
    first = run_firmware(
        device_config(tmp_path, down, recording, events_capacity=2, drain_s=0.5), tmp_path
    )
    made = queued(first.stdout)
    assert len(made) >= 3 and "pending=2 dropped=" in first.stdout
    empty = tmp_path / "empty.csv"
    empty.write_text(recording.read_text().splitlines()[0] + "\n")
    with FakeApi() as api:  # the outage ends; the device reboots with what it kept
        result = run_firmware(device_config(tmp_path, api.url, empty, events_capacity=2), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert stored(api) == made[-2:]  # the newest two; the older ones were dropped
    dropped = len(made) - 2
    assert api.telemetry and api.telemetry[-1]["dropped"] == dropped
    # every heartbeat of both boots arrives, saying what the device logged when it made it
    logged = re.findall(r"gs-telemetry queue_len=(\d+) dropped=(\d+)", first.stdout + result.stdout)
    assert [(t["queue_len"], t["dropped"]) for t in api.telemetry] == [
        (int(q), int(d)) for q, d in logged
    ]
    assert max(t["queue_len"] for t in api.telemetry) == 2
