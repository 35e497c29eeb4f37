"""Job settings, run layout and the CLI's input handling: bad input is a clear error."""

from __future__ import annotations

from datetime import date

import pytest

from gesture_stack.cli import main as cli
from pipeline import run_layout
from pipeline.jobs.collect import event_days, in_range
from pipeline.settings import JobSettings, SettingsError

ENV = {"DATA_BUCKET": "b", "RUN_ID": "r1", "STAGE": "dev"}


def test_settings_from_the_environment():
    s = JobSettings.from_env("collect", {**ENV, "TIME_FROM": "2026-01-02", "TRAINING": '{"a": 1}'})
    assert (s.bucket, s.run_id, s.stage, s.time_from, s.time_to) == (
        "b",
        "r1",
        "dev",
        date(2026, 1, 2),
        None,
    )
    assert s.training == {"a": 1}
    assert s.work_dir.as_posix() == "build/pipeline/r1/collect"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"RUN_ID": "r"}, "DATA_BUCKET"),
        ({**ENV, "RUN_ID": "../etc"}, "bad run id"),
        ({**ENV, "TIME_TO": "yesterday"}, "TIME_TO must be an ISO date"),
        ({**ENV, "TRAINING": "[1]"}, "TRAINING must be a JSON object"),
        ({**ENV, "TRAINING": "{"}, "TRAINING must be a JSON object"),
    ],
)
def test_bad_settings_say_what_is_wrong(env, message):
    with pytest.raises(SettingsError, match=message):
        JobSettings.from_env("retrain", env)


def test_time_range_is_inclusive_and_open_ended():
    assert in_range("2026-01-02", date(2026, 1, 2), date(2026, 1, 2))
    assert not in_range("2026-01-03", None, date(2026, 1, 2))
    assert in_range("2020-01-01", None, None)


def test_event_days_default_to_a_lookback_window_ending_today():
    today = date(2026, 3, 10)
    assert event_days(date(2026, 3, 1), date(2026, 3, 2), today) == ["2026-03-01", "2026-03-02"]
    days = event_days(None, None, today)
    assert (days[0], days[-1], len(days)) == ("2026-02-08", "2026-03-10", 31)


def test_run_layout_keys_and_manifest_lookup():
    assert run_layout.raw_manifest_key("r1") == "runs/r1/raw/manifest.json"
    assert run_layout.run_id_of_raw_manifest("runs/r1/raw/manifest.json") == "r1"
    assert run_layout.run_id_of_raw_manifest("runs/r1/models/v/manifest.json") is None


def test_cli_rejects_input_that_is_not_a_json_object():
    with pytest.raises(SystemExit, match="not JSON"):
        cli(["pipeline", "--input", "{run_data_collect: true}"])
    with pytest.raises(SystemExit, match="must be a JSON object"):
        cli(["pipeline", "--input", "[true, true]"])


def test_cli_runs_main_with_both_flags_false(capsys):
    code = cli(["pipeline", "--input", '{"run_data_collect": false, "run_data_process": false}'])
    out = capsys.readouterr().out
    assert code == 0
    assert "main     > Retrain model?" in out and "main     > Done" in out
    assert out.rstrip().split("\n").count("SUCCEEDED") == 1
