"""`make demo` end to end: every step of the whole local system succeeds and says so."""

from __future__ import annotations

import json

from gesture_stack.cli import main


def test_demo_runs_the_whole_system_and_the_device_ends_on_the_promoted_model(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "demo"

    code = main(["demo", "--out", str(out)])

    printed = capsys.readouterr().out
    steps = [line for line in printed.splitlines() if line.startswith("demo-step ")]
    assert code == 0, "\n".join(steps)
    names = [line.split()[1] for line in steps]
    assert names == ["data", "train", "detect", "device", "pipeline", "ota", "page"]
    assert all(" ok: " in line for line in steps), "\n".join(steps)
    device_model = json.loads((out / "device" / "model" / "manifest.json").read_text())
    first_model = json.loads((out / "model" / "manifest.json").read_text())
    assert device_model["version"] != first_model["version"]  # the OTA brought the new one
    page = (out / "index.html").read_text()
    assert "model/report.html" in page and (out / "model" / "report.html").is_file()
