"""A new model proves itself on real windows before it is trusted (under micropython).

Each model here imports and passes the install check, then misbehaves on real windows: raises,
answers malformed scores, is too slow, or hangs at import (the harness kills the run as the
watchdog resets the board). The device must go back to the previous model, remember the bad
version on flash (never download it again), report it in telemetry, and lose no event.
"""

import hashlib
import json

import pytest
from fw_harness import (
    device_config,
    queued,
    run_firmware,
    write_rules_model,
    write_synthetic_recording,
)
from fw_ota_kit import (
    HANGS_AT_IMPORT,
    MISBEHAVING,
    OTHER_GOOD,
    FileServer,
    ReleaseApi,
    mpy,
    release,
    report,
    run_until_killed,
    trial_state,
    version_in,
    versions_of_events_after,
)

OLD = "20260101000000-0000a000"  # what write_rules_model puts on the device
BAD = "20260202000000-0000bad0"
FIX = "20260303000000-0000f1c5"
T0 = 1_790_000_000_000


# The simulated board runs ~20x faster than real time; waiting up to 250 ms per OTA step keeps
# a loaded machine's server latency from costing seconds of simulated time (the drip test in
# test_fw_ota_download.py runs with the board's default of 20 ms).
SIM_WAIT = {"ota_wait_ms": 250}


def setup(tmp_path, **overrides):
    """The device's config (its api_url set by run()); flashes the OLD model into model/."""
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    return device_config(tmp_path, "http://set-by-run", recording, **SIM_WAIT, **overrides)


def run(tmp_path, api, config):
    config["api_url"] = api.url
    result = run_firmware(config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def heartbeats(api):
    return [body for path, body in api.bodies if path == "/telemetry"]


@pytest.mark.parametrize("fault", [f for f in MISBEHAVING if f != "hangs"])
def test_model_failing_on_real_windows_is_rolled_back_and_a_fix_installs(tmp_path, fault):
    with FileServer() as files:
        files.files["bad.mpy"] = mpy(tmp_path, MISBEHAVING[fault], "bad")
        files.files["fix.mpy"] = mpy(tmp_path, OTHER_GOOD, "fix")
        bad = release(BAD, files.url + "/bad.mpy", files.files["bad.mpy"])
        fix = release(FIX, files.url + "/fix.mpy", files.files["fix.mpy"])
        config = setup(tmp_path, ota_period_s=4)
        # the cloud keeps serving BAD for two checks, then promotes a fix
        with ReleaseApi([bad, bad, fix]) as api:
            out = run(tmp_path, api, config)
        assert files.requests_for("bad.mpy") == 1  # remembered: not downloaded again
        assert files.requests_for("fix.mpy") == 1
    assert f"gs-ota installed version={BAD}" in out
    assert f"gs-model rejected version={BAD}" in out, out
    assert f"gs-ota skipped version={BAD}" in out
    assert f"gs-model trusted version={FIX}" in out, out
    # the device ends on the fix, the old model kept as previous; BAD remembered on flash
    assert version_in(tmp_path / "model") == FIX
    assert version_in(tmp_path / "model.prev") == OLD
    assert trial_state(tmp_path) == {"trying": None, "bad": [BAD]}
    # events and telemetry kept flowing; nothing lost; the bad model produced no event
    counts = report(f"probation-{fault}-then-fix", [out], api.events, tmp_path)
    assert counts["lost"] == 0 and counts["duplicated"] == 0, counts
    assert queued(out.split(f"gs-model rejected version={BAD}", 1)[1]), out  # detection went on
    assert BAD not in {e["model_version"] for e in api.events}
    assert versions_of_events_after(out, f"gs-ota installed version={FIX}", api) <= {FIX}
    beats = heartbeats(api)
    assert any(b["model_rejected"] == [BAD] and b["model_errors"] >= 1 for b in beats) or (
        fault == "too-slow" and any(b["model_rejected"] == [BAD] for b in beats)
    ), beats
    assert "pending=0 dropped=0" in out


def test_a_model_that_only_passes_the_install_check_never_runs_after_a_reboot(tmp_path):
    """The rejection is on flash: the next boot neither runs nor downloads BAD again."""
    with FileServer() as files:
        files.files["bad.mpy"] = mpy(tmp_path, MISBEHAVING["raises"], "bad")
        bad = release(BAD, files.url + "/bad.mpy", files.files["bad.mpy"])
        baseline_dir = tmp_path / "baseline"
        baseline_dir.mkdir()
        config = setup(baseline_dir, t0_ms=T0)
        with ReleaseApi([None]) as api:
            baseline = {q[1:] for q in queued(run(baseline_dir, api, config))}
        config = setup(tmp_path, t0_ms=T0)
        with ReleaseApi([bad]) as api:
            first = run(tmp_path, api, config)
            second = run(tmp_path, api, config)
        assert files.requests_for("bad.mpy") == 1
    # after the rollback the old model detects what it detects without any OTA, at the same
    # times (the new detector's sample 0 is the ring's sample at the swap, not the recording's)
    after = queued(first.split(f"gs-model rejected version={BAD}", 1)[1])
    assert after and {q[1:] for q in after} <= baseline, (after, baseline)
    assert f"gs-model rejected version={BAD}" in first
    assert f"gs-model version={OLD}" in second and f"gs-model version={BAD}" not in second
    assert version_in(tmp_path / "model") == OLD
    counts = report("rejected-model-after-reboot", [first, second], api.events, tmp_path)
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and counts["queued"] >= 4, counts
    assert {e["model_version"] for e in api.events} == {OLD}
    assert heartbeats(api)[0]["model_rejected"] == []
    assert heartbeats(api)[-1]["model_rejected"] == [BAD]


def test_an_error_in_inference_is_counted_and_the_loop_goes_on(tmp_path):
    """A trusted model (flashed, not on probation) that raises: no rollback, no stop; every
    fault is counted in telemetry and events, telemetry and OTA keep running."""
    config = setup(tmp_path, ota_period_s=5)
    model = tmp_path / "model"
    (model / "model.py").unlink()
    (model / "model.mpy").write_bytes(mpy(tmp_path, MISBEHAVING["raises"], "m"))
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["files"]["model.mpy"]["bytes"] = (model / "model.mpy").stat().st_size
    (model / "manifest.json").write_text(json.dumps(manifest))
    with FileServer() as files:
        files.files["fix.mpy"] = mpy(tmp_path, OTHER_GOOD, "fix")
        fix = release(FIX, files.url + "/fix.mpy", files.files["fix.mpy"])
        with ReleaseApi([None, fix]) as api:
            out = run(tmp_path, api, config)
    assert "gs-model rejected" not in out
    beats = heartbeats(api)
    errors = [b["model_errors"] for b in beats]
    assert errors[1] > 0 and errors == sorted(errors), errors  # counted, growing until the fix
    assert f"gs-model trusted version={FIX}" in out  # the cloud could push a fix
    counts = report("trusted-model-raises-then-fix", [out], api.events, tmp_path)
    assert counts["queued"] >= 1 and counts["lost"] == 0 and counts["duplicated"] == 0, counts
    assert "pending=0 dropped=0" in out


@pytest.mark.parametrize("where", ["import", "score"])
def test_a_hang_is_remembered_across_the_watchdog_reset(tmp_path, where):
    """The model hangs at import, or in score() on the first real window: the loop stops, the
    harness kills the run as the watchdog resets the board; the next boot must not hang."""
    source = HANGS_AT_IMPORT if where == "import" else MISBEHAVING["hangs"]
    marker = f"gs-ota trying version={BAD}" if where == "import" else f"gs-model version={BAD}"
    with FileServer() as files:
        files.files["hang.mpy"] = mpy(tmp_path, source, "hang")
        bad = release(BAD, files.url + "/hang.mpy", files.files["hang.mpy"])
        config = setup(tmp_path)
        with ReleaseApi([bad]) as api:
            config["api_url"] = api.url
            (tmp_path / "config.json").write_text(json.dumps(config))
            hung = run_until_killed(tmp_path, marker)
            # what the next boot finds: BAD marked as on trial
            assert trial_state(tmp_path)["trying"] == BAD
            assert version_in(tmp_path / "model") == (OLD if where == "import" else BAD)
            rebooted = run(tmp_path, api, config)
        assert files.requests_for("hang.mpy") == 1
    assert f"gs-model rejected version={BAD} reason=reset while on trial" in rebooted
    assert f"gs-model version={BAD}" not in rebooted
    assert f"gs-ota skipped version={BAD}" in rebooted
    assert version_in(tmp_path / "model") == OLD
    assert not (tmp_path / "model.new").exists() and not (tmp_path / "model.prev").exists()
    assert trial_state(tmp_path) == {"trying": None, "bad": [BAD]}
    counts = report(f"hang-in-{where}-watchdog-reset", [hung, rebooted], api.events, tmp_path)
    assert counts["queued"] >= 3 and counts["lost"] == 0 and counts["duplicated"] == 0, counts
    assert any(b["model_rejected"] == [BAD] for path, b in api.bodies if path == "/telemetry")


@pytest.mark.parametrize("cut", ["on-probation", "after-the-verdict"])
def test_reset_during_probation_rolls_back_to_the_previous_model(tmp_path, cut):
    """The model was swapped in and on probation when the board reset (e.g. score() hung), or
    the power failed after its rejection was written but before the folders were swapped back:
    the next boot runs the previous model, not the one on trial."""
    config = setup(tmp_path)
    write_rules_model(tmp_path / "model.prev")  # OLD
    write_rules_model(tmp_path / "model", version=BAD)
    state = {"trying": BAD, "bad": []} if cut == "on-probation" else {"trying": None, "bad": [BAD]}
    (tmp_path / "model.trial.json").write_text(json.dumps(state))
    with ReleaseApi([None]) as api:
        out = run(tmp_path, api, config)
    if cut == "on-probation":
        assert f"gs-model rejected version={BAD} reason=reset while on trial" in out
    assert trial_state(tmp_path) == {"trying": None, "bad": [BAD]}
    assert f"gs-model rolled back from version={BAD}" in out
    assert version_in(tmp_path / "model") == OLD and not (tmp_path / "model.prev").exists()
    assert {e["model_version"] for e in api.events} == {OLD}
    counts = report(f"reset-{cut}", [out], api.events, tmp_path)
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and counts["queued"] >= 3, counts


def test_against_the_local_api_a_rejected_version_is_not_served_again(tmp_path):
    """The real GET /model handler (local API over moto): after the rejection the device lists
    BAD in If-None-Match, the API answers 304, nothing is downloaded; a fix then installs."""
    import time
    import urllib.request

    from localcloud.server import LocalCloud

    def folder(name, version, source):
        path = write_rules_model(tmp_path / name, version=version)
        (path / "model.py").unlink()
        data = mpy(tmp_path, source, name)
        (path / "model.mpy").write_bytes(data)
        manifest = json.loads((path / "manifest.json").read_text())
        manifest["files"]["model.mpy"] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "bytes": len(data),
        }
        (path / "manifest.json").write_text(json.dumps(manifest))
        return path

    bad, fix = folder("bad", BAD, MISBEHAVING["raises"]), folder("fix", FIX, OTHER_GOOD)
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    outputs = []
    with LocalCloud(port=0) as api:
        key = api.add_device("dev-ota")
        config = device_config(tmp_path, api.url, recording, api_key=key, **SIM_WAIT)
        api.publish_model(bad)
        for _ in range(2):
            config["t0_ms"] = int(time.time() * 1000) - 20_000
            outputs.append(run(tmp_path, api, config))
        api.publish_model(fix)
        config["t0_ms"] = int(time.time() * 1000) - 20_000
        outputs.append(run(tmp_path, api, config))
        url = f"{api.url}/events?device_id=dev-ota&from=0&to={int(time.time() * 1000)}&limit=500"
        request = urllib.request.Request(url, headers={"x-api-key": key})
        with urllib.request.urlopen(request) as resp:
            stored = json.loads(resp.read())["items"]
    first, second, third = outputs
    assert f"gs-model rejected version={BAD}" in first
    assert "gs-ota download" not in second and f"gs-model version={BAD}" not in second
    assert "gs-ota skipped" not in second  # the API answered 304: BAD is in If-None-Match
    assert f"gs-model trusted version={FIX}" in third
    assert version_in(tmp_path / "model") == FIX
    counts = report("local-api-rejected-not-served-again", outputs, stored, tmp_path)
    assert all(queued(out) for out in outputs), outputs
    assert counts["lost"] == 0 and counts["duplicated"] == 0, counts


def test_a_bad_first_model_leaves_a_device_without_one_waiting_for_a_fix(tmp_path):
    """No previous model to go back to: the bad one is removed (it never runs again), the
    device keeps sampling and reporting without a model, and the fix installs later."""
    config = setup(tmp_path, ota_period_s=2, telemetry_period_s=1)
    config["model_dir"] = str(tmp_path / "empty" / "model")
    (tmp_path / "empty").mkdir()
    with FileServer() as files:
        files.files["bad.mpy"] = mpy(tmp_path, MISBEHAVING["raises"], "bad")
        files.files["fix.mpy"] = mpy(tmp_path, OTHER_GOOD, "fix")
        bad = release(BAD, files.url + "/bad.mpy", files.files["bad.mpy"])
        fix = release(FIX, files.url + "/fix.mpy", files.files["fix.mpy"])
        with ReleaseApi([bad, fix]) as api:
            out = run(tmp_path, api, config)
    assert "gs-model none" in out and f"gs-model rejected version={BAD}" in out, out
    after = out.split(f"gs-model rejected version={BAD}", 1)[1].split("\n", 1)[1]
    assert after.startswith("gs-model none"), after[:200]
    assert f"gs-model trusted version={FIX}" in out
    assert version_in(tmp_path / "empty" / "model") == FIX
    assert not (tmp_path / "empty" / "model.prev").exists()
    beats = heartbeats(api)
    assert [b["model_version"] for b in beats][:1] == ["none"]
    assert any(b["model_version"] == "none" and b["model_rejected"] == [BAD] for b in beats)
    counts = report("bad-first-model-no-previous-then-fix", [out], api.events, tmp_path / "empty")
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and counts["queued"] >= 1, counts
    assert {e["model_version"] for e in api.events} == {FIX}


@pytest.mark.parametrize("verdict", ["trusted", "rejected"])
def test_a_heartbeat_follows_the_probation_verdict_at_once(tmp_path, verdict):
    """With an hour between heartbeats, the fleet still hears of a verdict at once: a heartbeat
    right after it names the model now running (and its vocabulary) or the rejected version."""
    with FileServer() as files:
        source = OTHER_GOOD if verdict == "trusted" else MISBEHAVING["raises"]
        files.files["new.mpy"] = mpy(tmp_path, source, "new")
        version = FIX if verdict == "trusted" else BAD
        rel = release(version, files.url + "/new.mpy", files.files["new.mpy"])
        rel["manifest"]["classes"] = ["idle", "x", "y", "shake"]  # a new vocabulary
        config = setup(tmp_path, telemetry_period_s=3600, ota_period_s=3600)
        with ReleaseApi([rel]) as api:
            out = run(tmp_path, api, config)
    assert f"gs-model {verdict} version={version}" in out, out
    after = out.split(f"gs-model {verdict} version={version}", 1)[1].splitlines()[1:]
    done = [line for line in after if not line.startswith("gs-model")]  # (the rollback's)
    assert done[0].startswith("gs-telemetry"), after[:5]  # the very next thing done
    beats = heartbeats(api)
    assert len(beats) == 2, beats  # at boot, and after the verdict (the period is an hour)
    assert (beats[0]["model_version"], beats[0]["gestures"]) == (OLD, ["x", "y", "circle"])
    if verdict == "trusted":
        assert (beats[1]["model_version"], beats[1]["gestures"]) == (FIX, ["x", "y", "shake"])
        assert beats[1]["model_rejected"] == []
    else:
        assert (beats[1]["model_version"], beats[1]["gestures"]) == (OLD, ["x", "y", "circle"])
        assert beats[1]["model_rejected"] == [BAD]
