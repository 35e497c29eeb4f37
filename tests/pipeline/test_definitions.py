"""The ASL files: valid, and shaped the way the deploy and the local runner rely on."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest

from localcloud.stack import load_infra
from tests.pipeline.conftest import REPO

MACHINES = sorted((REPO / "statemachines").glob("*.asl.json"))
CODEBUILD_SYNC = "arn:aws:states:::codebuild:startBuild.sync"
SFN_SYNC2 = "arn:aws:states:::states:startExecution.sync:2"


def load(name: str) -> dict:
    return json.loads((REPO / "statemachines" / f"{name}.asl.json").read_text())


def tasks(definition: dict) -> dict[str, dict]:
    return {k: s for k, s in definition["States"].items() if s["Type"] == "Task"}


def test_there_are_exactly_the_three_machines():
    assert [p.name for p in MACHINES] == ["collect.asl.json", "main.asl.json", "retrain.asl.json"]


@pytest.mark.parametrize("path", MACHINES, ids=lambda p: p.name)
def test_asl_validator_accepts_the_definition(path):
    if shutil.which("npx") is None or not (REPO / "node_modules" / "asl-validator").exists():
        pytest.fail("node_modules is missing: run `make install` (npm ci) first")
    done = subprocess.run(
        ["npx", "asl-validator", "--json-path", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", ["collect", "retrain"])
def test_child_runs_its_job_with_retry_catch_and_pascal_case_overrides(name):
    (task,) = tasks(load(name)).values()
    assert task["Resource"] == CODEBUILD_SYNC
    assert task["Parameters"]["ProjectName"] == f"#{{{name.capitalize()}Project}}"
    for item in task["Parameters"]["EnvironmentVariablesOverride"]:
        assert set(item) - {"Value", "Value.$"} == {"Name", "Type"}, item
        assert len(item.keys() & {"Value", "Value.$"}) == 1, item
    names = [i["Name"] for i in task["Parameters"]["EnvironmentVariablesOverride"]]
    assert {"RUN_ID", "STAGE"} <= set(names)
    retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
    assert {"States.TaskFailed", "CodeBuild.AccountLimitExceededException"} <= retried
    assert all(r["BackoffRate"] > 1 and r["IntervalSeconds"] >= 1 for r in task["Retry"])
    assert 3600 <= task["TimeoutSeconds"] <= 4 * 3600  # above the project timeout, never stuck
    assert task["Catch"][0]["ErrorEquals"] == ["States.ALL"]
    assert load(name)["States"][task["Catch"][0]["Next"]]["Type"] == "Fail"


def test_collect_passes_the_time_range_and_retrain_the_training_parameters():
    def overrides(name):
        (task,) = tasks(load(name)).values()
        return {i["Name"] for i in task["Parameters"]["EnvironmentVariablesOverride"]}

    # collect checks the training input too, so a bad run stops before it exports anything
    assert overrides("collect") == {"RUN_ID", "STAGE", "TIME_FROM", "TIME_TO", "TRAINING"}
    assert overrides("retrain") == {"RUN_ID", "STAGE", "TRAINING"}


def test_main_starts_each_child_synchronously_and_fails_with_the_childs_error():
    main = load("main")
    starts = {k: t["Parameters"]["StateMachineArn"] for k, t in tasks(main).items()}
    assert starts == {"Collect": "#{CollectStateMachine}", "Retrain": "#{RetrainStateMachine}"}
    for task in tasks(main).values():
        assert task["Resource"] == SFN_SYNC2
        retried = {e for r in task["Retry"] for e in r["ErrorEquals"]}
        assert retried == {
            "StepFunctions.ExecutionLimitExceededException"
        }  # a failed child is final
        catches = {c["ErrorEquals"][0]: c["Next"] for c in task["Catch"]}
        assert catches == {
            "States.TaskFailed": "Read child failure",
            "States.ALL": "Could not run child",
        }
    assert main["States"]["Child failed"] == {
        "Type": "Fail",
        "ErrorPath": "$.child.Error",
        "CausePath": "$.child.Cause",
    }


def test_every_placeholder_names_a_resource_or_parameter_of_the_stack():
    pipeline = load_infra("pipeline")
    machines = load_infra("stepfunctions")
    known = set(pipeline["Resources"]) | set(pipeline["Parameters"])
    known |= {m["id"] for m in machines["stateMachines"].values()}
    for path in MACHINES:
        used = set(re.findall(r"#\{([^}]+)\}", path.read_text()))
        assert used <= known, (path.name, used - known)
        assert "${" not in path.read_text(), "serverless would try to resolve ${...}"
