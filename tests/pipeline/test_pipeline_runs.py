"""The real state machines executed by moto's interpreter; jobs run as local processes from
the buildspecs (training is the fast fake unless a test says otherwise)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from functions import storage_layout
from functions.adapters.events_table import EventsTable
from functions.domain.events import to_records
from functions.models import EventBatch
from localcloud import stack as local_stack
from localcloud.moto_adapter import BuildResult
from pipeline import run_layout
from tests.pipeline.conftest import read_json
from tests.pipeline.fake_training import V1, V2, V3

BOTH_OFF = {"run_data_collect": False, "run_data_process": False}
RETRAIN_ONLY = {"run_data_collect": False, "run_data_process": True}


def entered(result, machine: str) -> list[str]:
    return [state for m, state in result.states if m == machine]


def current_version(p) -> str | None:
    try:
        return read_json(p.s3, p.bucket, storage_layout.CURRENT_MODEL_KEY)["version"]
    except p.s3.exceptions.NoSuchKey:
        return None


def put_window(p, device: str, t_ms: int, label: str) -> str:
    key = storage_layout.raw_sample_key(device, t_ms, f"{t_ms:064x}")
    window = {"t_ms": t_ms, "rate_hz": 100, "units": "raw", "signals": ["acc_x"]}
    body = {**window, "values": [[1]], "label": label, "device_id": device}
    p.s3.put_object(Bucket=p.bucket, Key=key, Body=json.dumps(body).encode())
    return key


def test_both_flags_false_finishes_at_once_without_starting_a_child(local_pipeline):
    builds = []
    with local_pipeline(run_build=lambda *a: builds.append(a)) as p:
        result = p.run(BOTH_OFF, name="both-off")
        children = [
            p.sfn.list_executions(stateMachineArn=p.machine_arn(k))["executions"]
            for k in ("collect", "retrain")
        ]
    assert result.status == "SUCCEEDED"
    assert entered(result, "main")[-3:] == ["Collect data?", "Retrain model?", "Done"]
    assert children == [[], []] and builds == []
    assert result.output["run_data_collect"] is False


def test_non_boolean_flag_fails_with_a_clear_error(local_pipeline):
    with local_pipeline(run_build=lambda *a: None) as p:
        result = p.run({"run_data_collect": "yes", "run_data_process": False})
    assert result.status == "FAILED"
    assert result.error == "Pipeline.InvalidInput"
    assert "run_data_collect" in result.cause


def put_events(p, device: str, *events: tuple[int, int, str]) -> None:
    batch = EventBatch(
        events=[
            {"seq": seq, "gesture": g, "t_ms": t, "score": 0.9, "model_version": V1}
            for seq, t, g in events
        ]
    )
    records = to_records(device, batch, datetime.now(UTC), retention_days=365)
    EventsTable(p.dynamodb, local_stack.table_names()["EventsTable"]).put_new(records)


def test_collect_branch_exports_windows_and_events_in_range_and_the_overrides_reach_the_job(
    local_pipeline,
):
    day = 86_400_000
    t0 = 1_767_225_600_000  # 2026-01-01T00:00:00Z
    with local_pipeline() as p:
        inside = [put_window(p, "dev-1", t0 + day, "x"), put_window(p, "dev-2", t0 + 2 * day, "y")]
        put_window(p, "dev-1", t0 + 9 * day, "circle")  # after time_to
        put_events(p, "dev-1", (1, t0 + day + 5, "circle"), (2, t0 + 9 * day, "x"))
        put_events(p, "dev-2", (7, t0 + 2 * day, "y"))
        result = p.run(
            {
                **BOTH_OFF,
                "run_data_collect": True,
                "time_from": "2026-01-02",
                "time_to": "2026-01-03",
            },
            name="collect-run",
        )
        manifest = read_json(p.s3, p.bucket, run_layout.raw_manifest_key("collect-run"))
        windows = p.s3.get_object(Bucket=p.bucket, Key=run_layout.raw_windows_key("collect-run"))
        exported = [json.loads(line)["key"] for line in windows["Body"].read().splitlines()]
        events = p.s3.get_object(Bucket=p.bucket, Key=run_layout.raw_events_key("collect-run"))
        events = [json.loads(line) for line in events["Body"].read().splitlines()]
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert "Retrain" not in entered(result, "main")
    assert entered(result, "collect")[-1] == "Collected"
    # RUN_ID, STAGE, TIME_FROM, TIME_TO came from the state machine's EnvironmentVariablesOverride
    assert (manifest["run_id"], manifest["stage"]) == ("collect-run", "local")
    assert (manifest["time_from"], manifest["time_to"]) == ("2026-01-02", "2026-01-03")
    assert exported == inside and manifest["windows"]["count"] == 2
    assert manifest["windows"]["by_label"] == {"x": 1, "y": 1}
    assert [(e["device_id"], e["seq"]) for e in events] == [("dev-1", 1), ("dev-2", 7)]
    assert manifest["events"]["by_gesture"] == {"circle": 1, "y": 1}
    collect_out = result.output["collect"]["output"]
    assert (collect_out["result"]["windows"], collect_out["result"]["events"]) == (2, 2)


def test_retrain_promotes_a_better_model_and_keeps_the_current_one_when_worse(local_pipeline):
    with local_pipeline() as p:
        first = p.run({**RETRAIN_ONLY, "training": {"fake": {"score": 0.7, "version": V1}}})
        after_first = current_version(p)
        worse = p.run({**RETRAIN_ONLY, "training": {"fake": {"score": 0.6, "version": V2}}})
        after_worse = current_version(p)
        worse_id = worse.output["retrain"]["output"]["result"]["run_id"]
        layer = p.s3.head_object(
            Bucket=p.bucket, Key=run_layout.run_layer_key(worse_id, "08_reporting/metrics.json")
        )
        kept_mpy = p.s3.head_object(
            Bucket=p.bucket, Key=run_layout.run_model_key(worse_id, V2, "model.mpy")
        )
        better = p.run({**RETRAIN_ONLY, "training": {"fake": {"score": 0.9, "version": V3}}})
        report = read_json(p.s3, p.bucket, run_layout.promotion_report_key(worse_id))
        after_better = current_version(p)
        served = p.s3.get_object(
            Bucket=p.bucket, Key=storage_layout.model_file_key(V3, "model.mpy")
        )
    assert [r.status for r in (first, worse, better)] == ["SUCCEEDED"] * 3
    assert (after_first, after_worse, after_better) == (V1, V1, V3)
    worse_result = worse.output["retrain"]["output"]["result"]
    assert worse_result["promoted"] is False
    assert "0.6000 <= current 0.7000" in worse_result["reason"]
    assert entered(worse, "retrain")[-1] == "Current model kept"
    assert entered(better, "retrain")[-1] == "New model is current"
    assert report["promoted"] is False and report["current"]["version"] == V1
    assert served["ContentLength"] == 1000
    assert kept_mpy["ContentLength"] == 1000  # the refused candidate is kept in its run folder
    assert layer["ContentLength"] > 0  # and so are the layers training went through


def test_a_model_over_the_device_budget_is_not_promoted(local_pipeline):
    with local_pipeline() as p:
        p.run({**RETRAIN_ONLY, "training": {"fake": {"score": 0.5, "version": V1}}})
        big = {"score": 0.99, "version": V2, "mpy_bytes": 5000}
        result = p.run(
            {**RETRAIN_ONLY, "training": {"fake": big, "budgets": {"model_mpy_bytes": 4096}}}
        )
        version = current_version(p)
    out = result.output["retrain"]["output"]["result"]
    assert result.status == "SUCCEEDED" and version == V1
    assert out["promoted"] is False
    assert "model.mpy is 5000 bytes, budget 4096" in out["reason"]


def test_failing_retrain_fails_main_with_the_childs_error_and_keeps_the_model(local_pipeline):
    with local_pipeline() as p:
        p.run({**RETRAIN_ONLY, "training": {"fake": {"score": 0.5, "version": V1}}})
        result = p.run({**RETRAIN_ONLY, "training": {"fake": {"fail": True}}}, name="broken")
        version = current_version(p)
        child = p.sfn.list_executions(stateMachineArn=p.machine_arn("retrain"))["executions"][0]
        child = p.sfn.describe_execution(executionArn=child["executionArn"])
    assert result.status == "FAILED"
    assert child["status"] == "FAILED"
    assert (result.error, result.cause) == (child["error"], child["cause"])
    assert result.error == "Pipeline.RetrainFailed"
    # the cause says in words what went wrong, not only the build's JSON
    assert result.cause == (
        "retrain failed: RuntimeError: fake training failed on purpose (traceback in the build log)"
    )
    assert version == V1
    # the job reported its own failure: retrying the same input cannot help, so it is not
    assert entered(result, "retrain")[-2:] == ["Job reported a failure?", "Job failed"]
    assert sum("Traceback" in line for line in p.lines) == 1


def test_a_transient_build_failure_is_retried(local_pipeline):
    calls = []

    def flaky(project: str, overrides: dict) -> BuildResult:
        calls.append((project, overrides["RUN_ID"]))
        if len(calls) == 1:
            return BuildResult("FAULT")
        result = {"run_id": overrides["RUN_ID"], "windows": 0}
        return BuildResult("SUCCEEDED", {"PIPELINE_RESULT": json.dumps(result)})

    with local_pipeline(run_build=flaky) as p:
        result = p.run({**BOTH_OFF, "run_data_collect": True}, name="flaky")
    assert result.status == "SUCCEEDED", (result.error, result.cause)
    assert calls == [("gesture-stack-local-collect", "flaky")] * 2
    assert any("States.TaskFailed" in line for line in p.lines)


def test_a_build_that_keeps_failing_fails_collect_and_main(local_pipeline):
    calls = []

    def broken(project: str, overrides: dict) -> BuildResult:
        calls.append(project)
        return BuildResult("FAILED")

    with local_pipeline(run_build=broken) as p:
        result = p.run({**BOTH_OFF, "run_data_collect": True, "run_data_process": True})
    assert result.status == "FAILED"
    assert result.error == "Pipeline.CollectFailed"
    assert len(calls) == 2  # one retry, then reported; retrain never started
    assert "Retrain" not in entered(result, "main")
