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


def test_get_json_is_none_for_a_missing_key_s3_answers_with_403(s3, without_list_rights):
    without_list_rights(s3)
    put(s3, "runs/r1/raw/manifest.json.bak", {"x": 1})
    assert get_json(s3, "bkt", "runs/r1/raw/manifest.json") is None
    assert without_list_rights.denied == ["runs/r1/raw/manifest.json"]
    put(s3, "runs/r1/raw/manifest.json", {"run_id": "r1"})
    assert get_json(s3, "bkt", "runs/r1/raw/manifest.json") == {"run_id": "r1"}


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


def test_collect_reads_the_same_events_from_a_table_export_as_from_query_pages(tmp_path):
    """The export path (large ranges, docs/scale.md) on moto's ExportTableToPointInTime: the
    same events.jsonl as the Query path, id markers and days out of range left out."""
    from datetime import UTC, datetime

    from moto import mock_aws

    from functions.adapters.events_table import EventsTable
    from functions.domain.events import to_records
    from functions.models import EventBatch
    from localcloud import stack
    from pipeline.jobs import collect as job

    t0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        stack.create_storage(dynamodb, s3, "bkt", "eu-west-1", "ci")
        table = stack.table_names("ci")["EventsTable"]
        dynamodb.update_continuous_backups(
            TableName=table,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        for n, device in enumerate(["dev-a", "dev-b", "dev-c"]):
            batch = EventBatch(
                events=[
                    {"id": f"1-{k}", "seq": k, "gesture": "x", "t_ms": t0 + k * 3_600_000 * 12 + n,
                     "score": 0.5, "model_version": "v1"}
                    for k in range(6)
                ]
            )  # fmt: skip
            EventsTable(dynamodb, table).put_new(
                to_records(device, batch, datetime.now(UTC), retention_days=30)
            )
        outputs = {}
        for path in ("query", "export"):
            env = {"DATA_BUCKET": "bkt", "RUN_ID": f"r-{path}", "WORK_ROOT": str(tmp_path)}
            env |= {"EVENTS_TABLE": table, "COLLECT_PATH": path}
            env |= {"TIME_FROM": "2026-01-01", "TIME_TO": "2026-01-02"}
            settings = JobSettings.from_env("collect", env)
            result = job.collect(settings, s3, dynamodb, today=date(2026, 1, 3), export_poll_s=0.05)
            body = s3.get_object(Bucket="bkt", Key=run_layout.raw_events_key(settings.run_id))
            manifest = get_json(s3, "bkt", run_layout.raw_manifest_key(settings.run_id))
            outputs[path] = (body["Body"].read(), result["events"], manifest["events"]["path"])
        exported = [
            k["Key"]
            for k in s3.list_objects_v2(Bucket="bkt", Prefix="runs/r-export/raw/export/")[
                "Contents"
            ]
        ]
    query_rows, export_rows = outputs["query"][0], outputs["export"][0]
    assert outputs["query"][1:] == (12, "query") and outputs["export"][1:] == (12, "export")
    assert export_rows == query_rows  # same events, same order (day, fleet_key)
    assert all(json.loads(line)["day"] <= "2026-01-02" for line in query_rows.splitlines())
    assert exported  # the export itself stays in the run folder


def test_collect_takes_the_export_path_above_the_threshold(monkeypatch):
    from pipeline.jobs import collect as job

    settings = JobSettings.from_env("collect", {**ENV, "EVENTS_TABLE": "t"})

    class Table:
        def __init__(self, count):
            self.count = count

        def describe_table(self, TableName):
            return {"Table": {"ItemCount": self.count}}

    days = [f"2026-01-{d:02d}" for d in range(1, 31)]
    per_item_range = 30 / 365 / 2  # half the items are id markers
    limit = job.EXPORT_THRESHOLD_EVENTS
    assert job.choose_path(settings, Table(int(limit / per_item_range) - 10), days) == "query"
    assert job.choose_path(settings, Table(int(limit / per_item_range) + 10), days) == "export"
    forced = JobSettings.from_env("collect", {**ENV, "COLLECT_PATH": "export"})
    assert job.choose_path(forced, Table(0), days) == "export"
    with pytest.raises(SettingsError, match="COLLECT_PATH"):
        JobSettings.from_env("collect", {**ENV, "COLLECT_PATH": "scan"})
