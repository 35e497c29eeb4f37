"""Job settings, run layout and the CLI's input handling: bad input is a clear error."""

from __future__ import annotations

import json
from datetime import date

import boto3
import pytest

from gesture_stack.cli import main as cli
from pipeline import run_layout
from pipeline.artifacts import get_json
from pipeline.jobs.collect import event_days, in_range
from pipeline.jobs.retrain import device_data_run
from pipeline.run_input import InvalidInput
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
        ({**ENV, "TIME_TO": "yesterday"}, "time_to must be a day YYYY-MM-DD"),
        ({**ENV, "TIME_TO": "2026-01-02T00:00:00Z"}, "time_to must be a day YYYY-MM-DD"),
        ({**ENV, "TRAINING": "[1]"}, "training must be a JSON object"),
        ({**ENV, "TRAINING": "{"}, "training must be a JSON object"),
        ({**ENV, "MAX_RANGE_DAYS": "0"}, "MAX_RANGE_DAYS must be a whole number"),
    ],
)
def test_bad_settings_say_what_is_wrong(env, message):
    # the stack's fault (SettingsError: the build fails) or the caller's (InvalidInput)
    error = SettingsError if message in ("DATA_BUCKET", "bad run id") else InvalidInput
    with pytest.raises(error, match=message):
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


@pytest.fixture
def s3():
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="eu-west-1")
        client.create_bucket(
            Bucket="bkt", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        yield client


def put(s3, key: str, obj) -> None:
    s3.put_object(Bucket="bkt", Key=key, Body=json.dumps(obj).encode())


def test_get_json_is_none_for_a_missing_key_even_next_to_a_longer_one(s3):
    put(s3, "models/current.json.bak", {"x": 1})
    assert get_json(s3, "bkt", "models/current.json") is None
    put(s3, "models/current.json", {"version": "v1"})
    assert get_json(s3, "bkt", "models/current.json") == {"version": "v1"}


def test_retrain_reads_this_runs_raw_layer_or_else_the_newest_one(s3):
    settings = JobSettings.from_env("retrain", {**ENV, "DATA_BUCKET": "bkt", "RUN_ID": "r3"})
    assert device_data_run(settings, s3) is None
    put(s3, run_layout.raw_manifest_key("r1"), {"created": "2026-01-02T00:00:00+00:00"})
    put(s3, run_layout.raw_manifest_key("r2"), {"created": "2026-01-01T00:00:00+00:00"})
    assert device_data_run(settings, s3) == "r1"
    put(s3, run_layout.raw_manifest_key("r3"), {"created": "2025-01-01T00:00:00+00:00"})
    assert device_data_run(settings, s3) == "r3"


def test_source_zip_holds_what_a_build_needs_and_goes_where_the_projects_read(s3, tmp_path):
    import zipfile

    from pipeline.source import SOURCE_KEY, build_source_zip, upload_source

    path = build_source_zip(tmp_path / "source.zip")
    names = set(zipfile.ZipFile(path).namelist())
    needed = {"Makefile", "requirements.lock", "buildspecs/collect.yml", "pipeline/jobs/retrain.py"}
    assert needed <= names and not any(n.startswith(".venv/") for n in names)
    upload_source(s3, "bkt", path)
    assert s3.head_object(Bucket="bkt", Key=SOURCE_KEY)["ContentLength"] == path.stat().st_size
    with pytest.raises(ValueError, match="git archive"):
        build_source_zip(tmp_path / "x.zip", ref="no-such-ref")
