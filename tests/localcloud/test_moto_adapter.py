"""localcloud.moto_adapter: the moto 5.2.5 gaps it fills, on tiny machines of its own."""

from __future__ import annotations

import json
import time

import boto3
import moto
import pytest
from moto import mock_aws

from localcloud.moto_adapter import MOTO_VERSION, BuildResult, patched_moto

ROLE = "arn:aws:iam::123456789012:role/test"


def run(sfn, definition: dict, payload: dict, name: str = "m") -> dict:
    arn = sfn.create_state_machine(name=name, definition=json.dumps(definition), roleArn=ROLE)[
        "stateMachineArn"
    ]
    ex = sfn.start_execution(stateMachineArn=arn, name="x", input=json.dumps(payload))
    deadline = time.monotonic() + 20
    while (d := sfn.describe_execution(executionArn=ex["executionArn"]))["status"] == "RUNNING":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return d


PASS = json.dumps({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
START = "arn:aws:states:::states:startExecution"
BUILD_SYNC = "arn:aws:states:::codebuild:startBuild.sync"


def task(resource: str, parameters: dict) -> dict:
    state = {"Type": "Task", "Resource": resource, "Parameters": parameters, "End": True}
    return {"StartAt": "T", "States": {"T": state}}


@pytest.fixture
def aws():
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield (
            boto3.client("stepfunctions", region_name="eu-west-1"),
            boto3.client("codebuild", region_name="eu-west-1"),
        )


def make_project(codebuild, name="proj"):
    codebuild.create_project(
        name=name,
        source={"type": "S3", "location": "bucket/source.zip"},
        artifacts={"type": "NO_ARTIFACTS"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "i",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=ROLE,
    )


def test_is_pinned_to_the_moto_version_it_was_written_for(monkeypatch):
    assert moto.__version__ == MOTO_VERSION
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with (
        pytest.raises(RuntimeError, match=r"written for moto 5\.2\.5"),
        patched_moto(lambda *a: None),
    ):
        pass


def test_without_the_adapter_moto_still_cannot_start_an_execution(aws):
    sfn, _ = aws
    child = sfn.create_state_machine(name="child", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    out = run(sfn, task(START, {"StateMachineArn": child}), {})
    assert out["status"] == "FAILED"  # when this passes, moto fixed the gap: drop SfnService


def test_start_execution_request_response_returns_step_functions_casing(aws):
    sfn, _ = aws
    child = sfn.create_state_machine(name="child", definition=PASS, roleArn=ROLE)["stateMachineArn"]
    with patched_moto(lambda *a: None):
        out = run(sfn, task(START, {"StateMachineArn": child, "Input": {"a": 1}}), {})
    assert out["status"] == "SUCCEEDED", out.get("cause")
    assert set(json.loads(out["output"])) == {"ExecutionArn", "StartDate"}


def test_start_build_sync_passes_overrides_and_returns_the_build(aws):
    sfn, codebuild = aws
    make_project(codebuild)
    seen = []

    def build(project, overrides):
        seen.append((project, overrides))
        return BuildResult("SUCCEEDED", {"OUT": "done"})

    params = {
        "ProjectName": "proj",
        "EnvironmentVariablesOverride": [
            {"Name": "RUN_ID", "Type": "PLAINTEXT", "Value.$": "$.run"}
        ],
    }
    with patched_moto(build):
        out = run(sfn, task(BUILD_SYNC, params), {"run": "r1"})
    assert out["status"] == "SUCCEEDED", out.get("cause")
    assert seen == [("proj", {"RUN_ID": "r1"})]
    b = json.loads(out["output"])["Build"]
    assert (b["ProjectName"], b["BuildStatus"], b["BuildComplete"]) == ("proj", "SUCCEEDED", True)
    assert b["ExportedEnvironmentVariables"] == [{"Name": "OUT", "Value": "done"}]


def test_a_failed_build_fails_the_task_with_the_build_as_cause(aws):
    sfn, codebuild = aws
    make_project(codebuild)
    with patched_moto(lambda *a: BuildResult("FAILED")):
        out = run(sfn, task(BUILD_SYNC, {"ProjectName": "proj"}), {})
    assert (out["status"], out["error"]) == ("FAILED", "States.TaskFailed")
    assert json.loads(out["cause"])["BuildStatus"] == "FAILED"


def test_an_unknown_project_is_a_codebuild_error_and_runs_nothing(aws):
    sfn, _ = aws
    ran = []
    with patched_moto(lambda *a: ran.append(a)):
        out = run(sfn, task(BUILD_SYNC, {"ProjectName": "nope"}), {})
    assert out["error"] == "CodeBuild.ResourceNotFoundException"
    assert ran == []
