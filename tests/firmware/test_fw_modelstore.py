"""Booting with a broken current model falls back to the previous one (under micropython)."""

import shutil

from fw_harness import run_micropython, write_rules_model

SCRIPT = """
from gesture import modelstore
from gesture.app import check_model
manifest, score = modelstore.load_current("model", check_model)
print("version", manifest["version"], "proba", score(None, 0, [0] * 30, [0] * 4))
"""


def test_broken_current_model_is_replaced_by_the_previous_at_boot(tmp_path):
    good = write_rules_model(tmp_path / "model.prev", version="20260101000000-0000a0aa")
    good_mpy = (good / "model.mpy").read_bytes()
    broken = tmp_path / "model"
    shutil.copytree(good, broken)
    (broken / "model.py").unlink()
    (broken / "model.mpy").write_bytes(b"M\x06 not bytecode")
    (tmp_path / "boot.py").write_text(SCRIPT)
    result = run_micropython(["boot.py"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "version 20260101000000-0000a0aa proba [90, 4, 3, 3]" in result.stdout
    assert not (tmp_path / "model.prev").exists()
    assert (tmp_path / "model" / "model.mpy").read_bytes() == good_mpy  # restored as current


def test_no_model_at_all_is_a_clear_error(tmp_path):
    (tmp_path / "boot.py").write_text(
        "from gesture import modelstore\n"
        "try:\n    modelstore.load_current('model')\n"
        "except modelstore.ModelError as exc:\n    print('error', exc)\n"
    )
    result = run_micropython(["boot.py"], cwd=tmp_path)
    assert "error model: no model.mpy or model.py" in result.stdout, result.stdout + result.stderr


def test_a_current_model_the_detector_cannot_run_also_falls_back(tmp_path):
    good = write_rules_model(tmp_path / "model.prev", version="20260101000000-0000a0bb")
    current = tmp_path / "model"
    shutil.copytree(good, current)
    manifest = (current / "manifest.json").read_text()
    manifest = manifest.replace('"decimation": 5', '"decimation": 3')
    (current / "manifest.json").write_text(manifest.replace("0000a0bb", "0000a0cc"))
    (tmp_path / "boot.py").write_text(SCRIPT)
    result = run_micropython(["boot.py"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "version 20260101000000-0000a0bb" in result.stdout
