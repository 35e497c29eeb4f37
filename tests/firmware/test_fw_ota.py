"""OTA under micropython: a verified release is swapped in (the old one kept as .prev); a
corrupt, truncated or broken download leaves the running model and its files untouched."""

import hashlib
import json

import pytest
from fw_fake_api import FakeApi
from fw_harness import (
    compile_mpy,
    device_config,
    queued,
    run_firmware,
    write_rules_model,
    write_synthetic_recording,
)

NEW = "20260202000000-0000a001"


def make_release(api, model_dir, served: bytes, promised: bytes, inline=False):
    """A GET /model answer for `promised` (hash and size) whose download yields `served`."""
    manifest = json.loads((model_dir / "manifest.json").read_text())
    manifest["version"] = NEW
    digest = hashlib.sha256(promised).hexdigest()
    manifest["files"] = {"model.mpy": {"sha256": digest, "bytes": len(promised)}}
    file = {"name": "model.mpy", "sha256": digest, "bytes": len(promised)}
    file["url"] = f"{api.url}/files/model.mpy"
    if inline:
        import base64

        file["content_b64"] = base64.b64encode(served).decode()
    api.model_files["model.mpy"] = served
    api.model_release = {"version": NEW, "manifest": manifest, "file": file}


def run_device(tmp_path, api):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    config = device_config(tmp_path, api.url, recording, ota_wait_ms=250)
    result = run_firmware(config, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    return result, tmp_path / "model"


def versions_sent(api):
    return {e["model_version"] for e in api.events}


@pytest.mark.parametrize("inline", [False, True], ids=["url", "inline"])
def test_verified_release_is_swapped_in_and_previous_kept(tmp_path, inline):
    good = write_rules_model(tmp_path / "release")
    data = (good / "model.mpy").read_bytes()
    with FakeApi() as api:
        make_release(api, good, data, data, inline=inline)
        result, model_dir = run_device(tmp_path, api)
    assert f"gs-ota installed version={NEW}" in result.stdout
    assert json.loads((model_dir / "manifest.json").read_text())["version"] == NEW
    assert (model_dir / "model.mpy").read_bytes() == data
    prev = json.loads((tmp_path / "model.prev" / "manifest.json").read_text())
    assert prev["version"] != NEW
    assert versions_sent(api) == {NEW}
    gets = [r for r in api.requests if r[0] == "GET" and r[1] == "/model"]
    assert len(gets) == 1


def _mpy_of(tmp_path, source):
    src = tmp_path / "other.py"
    src.write_text(source)
    compile_mpy(src, tmp_path / "other.mpy")
    return (tmp_path / "other.mpy").read_bytes()


FAULTY_MODELS = {
    "does-not-import": "raise ImportError('not a model')\n",
    "wrong-class-count": "def score(w, b, f, o):\n    o[0] = o[1] = 50\n    return o\n",
    "float-model": "def score(input):\n    return [0.25, 0.25, 0.25, 0.25]\n",
}


@pytest.mark.parametrize("fault", ["corrupt", "truncated", *FAULTY_MODELS])
def test_bad_download_leaves_the_old_model_running(tmp_path, fault):
    good = write_rules_model(tmp_path / "release")
    data = (good / "model.mpy").read_bytes()
    if fault == "corrupt":
        served, promised = data[:-1] + bytes([data[-1] ^ 0xFF]), data
    elif fault == "truncated":
        served, promised = data[: len(data) // 2], data
    else:
        served = promised = _mpy_of(tmp_path, FAULTY_MODELS[fault])
    running = write_rules_model(tmp_path / "model")  # what the device boots with
    old_files = {p.name: p.read_bytes() for p in running.iterdir()}
    with FakeApi() as api:
        make_release(api, good, served, promised)
        result, model_dir = run_device(tmp_path, api)
    assert "gs-ota failed" in result.stdout
    assert "gs-ota installed" not in result.stdout
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["version"] != NEW
    assert {p.name: p.read_bytes() for p in model_dir.iterdir()} == old_files
    assert not (tmp_path / "model.new").exists() and not (tmp_path / "model.prev").exists()
    assert len(queued(result.stdout)) >= 3
    assert versions_sent(api) == {manifest["version"]}
    # a model that cannot run is remembered (never downloaded again); a damaged download is not
    trial = tmp_path / "model.trial.json"
    bad = json.loads(trial.read_text())["bad"] if trial.exists() else []
    assert bad == ([NEW] if fault in FAULTY_MODELS else [])


def test_unchanged_model_is_not_downloaded_again(tmp_path):
    model_dir = write_rules_model(tmp_path / "model")
    manifest = json.loads((model_dir / "manifest.json").read_text())
    with FakeApi() as api:
        data = (model_dir / "model.mpy").read_bytes()
        make_release(api, model_dir, data, data)
        api.model_release["version"] = manifest["version"]
        run_device(tmp_path, api)
    assert [r[2] for r in api.requests if r[1] == "/model"] == [304]
    assert not any(r[1].startswith("/files/") for r in api.requests)
