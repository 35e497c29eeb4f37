"""Downloads that cannot hurt (under micropython): the release is validated before anything is
written, the file streams in one bounded read per loop iteration under a total deadline, and
every check stands on its own: each refused release here describes or serves a model that
LOADS FINE, so the loader cannot be what rejects it (tests/firmware/test_fw_ota.py has the
corrupt and unloadable downloads)."""

import hashlib
import json

import pytest
from fw_harness import (
    RULES_MODEL,
    device_config,
    run_firmware,
    run_micropython,
    write_synthetic_recording,
)
from fw_ota_kit import (
    OTHER_GOOD,
    FileServer,
    ReleaseApi,
    mpy,
    padded,
    release,
    report,
    trial_state,
    version_in,
)

OLD = "20260101000000-0000a000"
NEW = "20260404000000-0000c0de"
BIG = 20 * 1024 * 1024


def run_device(tmp_path, releases, **overrides):
    """One simulated device run; OTA steps wait up to 250 ms for data (see SIM_WAIT in
    test_fw_ota_probation.py) unless the test says otherwise."""
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    with ReleaseApi(releases) as api:
        config = device_config(tmp_path, api.url, recording, **{"ota_wait_ms": 250, **overrides})
        result = run_firmware(config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout, api


def assert_old_model_kept(tmp_path, out, api, scenario):
    """Nothing installed, nothing left behind, every event delivered with the old model."""
    assert "gs-ota installed" not in out, out
    assert version_in(tmp_path / "model") == OLD
    assert not (tmp_path / "model.new").exists() and not (tmp_path / "model.prev").exists()
    counts = report(scenario, [out], api.events, tmp_path)
    assert counts["queued"] >= 3 and counts["lost"] == 0 and counts["duplicated"] == 0, counts
    assert {e["model_version"] for e in api.events} == {OLD}
    assert "pending=0 dropped=0" in out


def ota_failure(out):
    lines = [line for line in out.splitlines() if line.startswith("gs-ota failed")]
    assert lines, out
    return lines[0]


# -- the loop keeps its period: a slow drip ---------------------------------------------------
def between(out, start, end):
    """The output lines after the first `start` line and before the first `end` line."""
    return out.split(start, 1)[1].split(end, 1)[0]


def test_slow_drip_is_ended_by_the_total_deadline_while_the_loop_runs_on(tmp_path):
    with FileServer() as files:
        files.files["model.mpy"] = mpy(tmp_path, padded(OTHER_GOOD, 4096))
        files.rate = 64  # bytes/s: the whole file would take about a minute
        rel = release(NEW, files.url + "/model.mpy", files.files["model.mpy"])
        out, api = run_device(tmp_path, [rel], ota_deadline_s=10, ota_wait_ms=20)
        written = files.served
    failure = ota_failure(out)
    assert "deadline: 10 s passed" in failure, failure
    steps = int(failure.rsplit("steps=", 1)[1])
    assert steps >= 150, failure  # 10 s of 50 ms loop iterations, one bounded read each
    # events were detected and delivered while the download was under way
    during = between(out, f"gs-ota download version={NEW}", "gs-ota failed")
    assert "gs-queued" in during and "/events n=" in during, during
    assert written and written[0][2] < len(files.files["model.mpy"])
    assert_old_model_kept(tmp_path, out, api, "slow-drip-64B/s-deadline")


def test_a_model_read_in_pieces_installs_while_events_flow(tmp_path):
    """The whole file is there at once, but each loop iteration takes at most 64 bytes of it:
    about 115 iterations (5.7 s of loop time) during which events are detected and sent."""
    with FileServer() as files:
        files.files["model.mpy"] = mpy(tmp_path, padded(OTHER_GOOD, 7000))
        rel = release(NEW, files.url + "/model.mpy", files.files["model.mpy"])
        out, api = run_device(tmp_path, [rel], ota_chunk_bytes=64)
    during = between(out, f"gs-ota download version={NEW}", f"gs-ota installed version={NEW}")
    assert "gs-queued" in during, out
    assert f"gs-ota installed version={NEW} steps=" in out, out
    steps = int(out.split(f"gs-ota installed version={NEW} steps=", 1)[1].split()[0])
    assert steps > len(files.files["model.mpy"]) // 64  # at most 64 bytes per iteration
    assert version_in(tmp_path / "model") == NEW
    assert (tmp_path / "model" / "model.mpy").read_bytes() == files.files["model.mpy"]
    counts = report("chunked-install-64B-per-iteration", [out], api.events, tmp_path)
    assert counts["lost"] == 0 and counts["duplicated"] == 0 and counts["queued"] >= 2, counts


# -- size: nothing written for a model too big -----------------------------------------------
def test_oversized_release_is_refused_before_anything_is_downloaded(tmp_path):
    with FileServer() as files:
        files.files["model.mpy"] = mpy(tmp_path, OTHER_GOOD)
        files.repeat = BIG // len(files.files["model.mpy"]) + 1
        rel = release(NEW, files.url + "/model.mpy", files.files["model.mpy"] * files.repeat)
        out, api = run_device(tmp_path, [rel])
        assert files.served == []
    assert "more than the 131072 allowed" in ota_failure(out)
    assert_old_model_kept(tmp_path, out, api, "oversized-release-20MB")


@pytest.mark.parametrize("framing", ["content-length", "until-close"])
def test_a_download_longer_than_promised_is_cut_off(tmp_path, framing):
    """The release promises a small model; the server sends 20 MB (announced, or not)."""
    with FileServer() as files:
        data = mpy(tmp_path, OTHER_GOOD)
        files.files["model.mpy"] = data
        files.repeat = BIG // len(data) + 1
        files.length = None if framing == "content-length" else False
        rel = release(NEW, files.url + "/model.mpy", data)
        out, api = run_device(tmp_path, [rel])
        written = files.served[0][2]
    reason = "model download is" if framing == "content-length" else "body longer than"
    assert reason in ota_failure(out), out
    assert written < BIG  # the device hung up instead of reading it all
    assert_old_model_kept(tmp_path, out, api, f"download-longer-than-promised-{framing}")


# -- names and versions from the server -------------------------------------------------------
BAD_VERSIONS = {
    "colon": "20260404000000:0000c0de",
    "slash": "2026/0404",
    "dotdot-slash": "../model",
    "too-long": "v" * 65,
    "empty": "",
    "space": "v 1",
    "newline": "v1\n",
}


@pytest.mark.parametrize("version", BAD_VERSIONS.values(), ids=BAD_VERSIONS.keys())
def test_bad_version_from_the_server_is_refused(tmp_path, version):
    with FileServer() as files:
        files.files["model.mpy"] = mpy(tmp_path, OTHER_GOOD)
        rel = release(NEW, files.url + "/model.mpy", files.files["model.mpy"])
        rel["version"] = rel["manifest"]["version"] = version
        out, api = run_device(tmp_path, [rel])
        assert files.served == []
    assert "bad version" in ota_failure(out)
    assert_old_model_kept(tmp_path, out, api, f"bad-version-{version!r}")
    assert trial_state(tmp_path)["bad"] == []


def test_an_unusual_but_valid_version_installs(tmp_path):
    """The positive control: the API's version format is wider than the training stamp."""
    version = "v1.2_rc-3." + "x" * 54  # 64 characters
    with FileServer() as files:
        files.files["model.mpy"] = mpy(tmp_path, OTHER_GOOD)
        rel = release(version, files.url + "/model.mpy", files.files["model.mpy"])
        out, _ = run_device(tmp_path, [rel])
    assert f"gs-model trusted version={version}" in out, out
    assert version_in(tmp_path / "model") == version


@pytest.mark.parametrize("name", ["../model.mpy", "boot.py", "model.mpy/x", None])
def test_unexpected_file_name_is_refused(tmp_path, name):
    with FileServer() as files:
        files.files["model.mpy"] = mpy(tmp_path, OTHER_GOOD)
        rel = release(NEW, files.url + "/model.mpy", files.files["model.mpy"])
        rel["file"]["name"] = name
        out, api = run_device(tmp_path, [rel])
        assert files.served == []
    assert "unexpected model file" in ota_failure(out)
    assert_old_model_kept(tmp_path, out, api, f"bad-file-name-{name!r}")


# -- each verification on its own, with a model that loads fine -------------------------------
def test_sha256_mismatch_is_refused_even_when_the_served_model_loads(tmp_path):
    """Served: another good model of exactly the promised size. Only the hash can tell."""
    promised, served = RULES_MODEL.encode(), OTHER_GOOD.encode()
    assert len(promised) == len(served)
    with FileServer() as files:
        files.files["model.py"] = served
        rel = release(NEW, files.url + "/model.py", promised, name="model.py")
        out, api = run_device(tmp_path, [rel])
        assert files.requests_for("model.py") == 1
    assert "sha256 mismatch" in ota_failure(out)
    assert_old_model_kept(tmp_path, out, api, "sha256-mismatch-loadable-model")


@pytest.mark.parametrize("field", ["sha256", "bytes", "version"])
def test_release_and_manifest_must_agree(tmp_path, field):
    """The release's file entry matches what is served (a good model); its manifest describes
    something else. Refused before the download."""
    with FileServer() as files:
        data = mpy(tmp_path, OTHER_GOOD)
        files.files["model.mpy"] = data
        rel = release(NEW, files.url + "/model.mpy", data)
        entry = rel["manifest"]["files"]["model.mpy"]
        if field == "sha256":
            entry["sha256"] = hashlib.sha256(b"another model").hexdigest()
        elif field == "bytes":
            entry["bytes"] += 1
        else:
            rel["manifest"]["version"] = OLD
        out, api = run_device(tmp_path, [rel])
        assert files.served == []
    assert "disagree" in ota_failure(out)
    assert_old_model_kept(tmp_path, out, api, f"release-manifest-disagree-{field}")


@pytest.mark.parametrize("status", [500, 404, 302])
def test_download_answering_an_error_status_is_refused(tmp_path, status):
    """The error answer's body is the promised model, byte for byte: only the status tells."""
    with FileServer() as files:
        data = mpy(tmp_path, OTHER_GOOD)
        files.files["model.mpy"] = data
        files.status["model.mpy"] = status
        rel = release(NEW, files.url + "/model.mpy", data)
        out, api = run_device(tmp_path, [rel])
    assert f"model download answered {status}" in ota_failure(out)
    assert_old_model_kept(tmp_path, out, api, f"download-status-{status}-loadable-body")


@pytest.mark.parametrize("missing", ["sha256", "bytes"])
def test_release_without_hash_or_size_is_refused_before_download(tmp_path, missing):
    with FileServer() as files:
        data = mpy(tmp_path, OTHER_GOOD)
        files.files["model.mpy"] = data
        rel = release(NEW, files.url + "/model.mpy", data)
        del rel["file"][missing]
        del rel["manifest"]["files"]["model.mpy"][missing]
        out, api = run_device(tmp_path, [rel])
        assert files.served == []
    assert "no valid sha256/size" in ota_failure(out)
    assert_old_model_kept(tmp_path, out, api, f"release-without-{missing}")


def test_release_answer_that_is_not_json_or_too_long_is_refused(tmp_path):
    rel = {"version": NEW, "manifest": {}, "file": {}, "padding": "x" * 40000}
    out, api = run_device(tmp_path, [rel])
    assert "release answer too long" in ota_failure(out)
    assert_old_model_kept(tmp_path, out, api, "release-answer-too-long")
    assert json.loads((tmp_path / "model" / "manifest.json").read_text())["version"] == OLD


@pytest.mark.parametrize("spare", [-1, 0])
def test_a_model_needs_its_size_plus_the_margin_in_free_flash(tmp_path, spare):
    """The board reports `size + 4 KB + the queues' reserve + spare` bytes free
    (storage.free_bytes patched in the entry script): one byte short and nothing is downloaded;
    exactly enough and it installs (a model never takes the flash the events keep)."""
    with FileServer() as files:
        data = mpy(tmp_path, OTHER_GOOD)
        files.files["model.mpy"] = data
        rel = release(NEW, files.url + "/model.mpy", data)
        recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
        with ReleaseApi([rel]) as api:
            reserve = 16384
            config = device_config(
                tmp_path, api.url, recording, ota_wait_ms=250, flash_reserve_bytes=reserve
            )
            (tmp_path / "config.json").write_text(json.dumps(config))
            (tmp_path / "small_flash.py").write_text(
                "from gesture import storage\n"
                f"storage.free_bytes = lambda path: {len(data) + 4096 + reserve + spare}\n"
                "from gesture import app\n"
                "app.main('config.json')\n"
            )
            result = run_micropython([str(tmp_path / "small_flash.py")], cwd=tmp_path)
            assert result.returncode == 0, result.stdout + result.stderr
        out = result.stdout
        assert files.requests_for("model.mpy") == (0 if spare < 0 else 1)
    if spare < 0:
        assert "do not fit in the free flash" in ota_failure(out)
        assert_old_model_kept(tmp_path, out, api, "flash-one-byte-short")
    else:
        assert f"gs-model trusted version={NEW}" in out, out
