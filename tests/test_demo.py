"""`make demo` end to end: every step of the whole local system succeeds and says so."""

from __future__ import annotations

import json

from gesture_stack.cli import main


def test_demo_runs_the_whole_system_and_the_device_ends_on_the_current_model(
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
    # The device ends on the model the cloud serves, whether or not retrain promoted one.
    pipeline_line = next(line for line in steps if line.startswith("demo-step pipeline"))
    assert ("candidate scores" in pipeline_line) and ("SUCCEEDED" in pipeline_line)
    device_model = json.loads((out / "device" / "model" / "manifest.json").read_text())
    ota_line = next(line for line in steps if line.startswith("demo-step ota"))
    assert f"runs model {device_model['version']} (current in the cloud: " in ota_line
    assert ota_line.rstrip().endswith(f"{device_model['version']})")
    page = (out / "index.html").read_text()
    assert "model/report.html" in page and (out / "model" / "report.html").is_file()
