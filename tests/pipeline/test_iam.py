"""The packaged template's roles allow exactly what the state machines call: each machine's
Task integrations, per the AWS docs' IAM policies for Step Functions integrations, and nothing
else; the jobs' roles stay inside the bucket prefixes their jobs use."""

from __future__ import annotations

import json
import re

import pytest

from pipeline.source import SOURCE_KEY

EVENTS_RULE = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/"
EXECUTIONS = "arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:"


def norm(resource) -> str:
    """A policy resource as comparable text: Ref X -> ref:X, GetAtt X.Arn -> arn:X."""
    if isinstance(resource, str):
        return resource
    if "Ref" in resource:
        return f"ref:{resource['Ref']}"
    if "Fn::GetAtt" in resource:
        logical, attr = resource["Fn::GetAtt"]
        return f"{attr.lower()}:{logical}"
    if "Fn::Sub" in resource:
        return resource["Fn::Sub"]
    raise AssertionError(f"unexpected resource form {resource}")


def granted(template: dict, role_id: str) -> set[tuple[str, str]]:
    pairs = set()
    for policy in template["Resources"][role_id]["Properties"]["Policies"]:
        for st in policy["PolicyDocument"]["Statement"]:
            assert st["Effect"] == "Allow"
            actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
            resources = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
            pairs |= {(a, norm(r)) for a in actions for r in resources}
    return pairs


def definition(template: dict, machine_id: str) -> dict:
    body = template["Resources"][machine_id]["Properties"]["DefinitionString"]["Fn::Sub"]
    text = body if isinstance(body, str) else body[0]
    return json.loads(re.sub(r"\$\{([A-Za-z0-9:]+)\}", r"sub:\1", text))


def needed(template: dict, machine_id: str) -> set[tuple[str, str]]:
    """What the machine's tasks call (AWS docs: IAM policies for integrated services)."""
    pairs = set()
    for state in definition(template, machine_id)["States"].values():
        if state["Type"] != "Task":
            continue
        resource, params = state["Resource"], state["Parameters"]
        if resource == "arn:aws:states:::states:startExecution.sync:2":
            child = params["StateMachineArn"].removeprefix("sub:")
            pairs.add(("states:StartExecution", f"ref:{child}"))
            runs = f"{EXECUTIONS}${{{child}.Name}}:*"
            pairs |= {("states:DescribeExecution", runs), ("states:StopExecution", runs)}
            rule = EVENTS_RULE + "StepFunctionsGetEventsForStepFunctionsExecutionRule"
        elif resource == "arn:aws:states:::codebuild:startBuild.sync":
            project = params["ProjectName"].removeprefix("sub:")
            for action in ("StartBuild", "StopBuild", "BatchGetBuilds"):
                pairs.add((f"codebuild:{action}", f"arn:{project}"))
            rule = EVENTS_RULE + "StepFunctionsGetEventForCodeBuildStartBuildRule"
        else:
            raise AssertionError(f"no IAM mapping for {resource}: add it here and to the role")
        pairs |= {(f"events:{a}", rule) for a in ("PutTargets", "PutRule", "DescribeRule")}
    return pairs


@pytest.mark.parametrize("machine", ["Main", "Collect", "Retrain"])
def test_state_machine_role_allows_exactly_what_its_tasks_call(packaged_template, machine):
    machine_id = f"{machine}StateMachine"
    props = packaged_template["Resources"][machine_id]["Properties"]
    role_id = props["RoleArn"]["Fn::GetAtt"][0]
    assert needed(packaged_template, machine_id), "a machine without tasks needs no role test"
    assert granted(packaged_template, role_id) == needed(packaged_template, machine_id)


def test_main_may_start_only_the_two_children(packaged_template):
    pairs = granted(packaged_template, "MainStateMachineRole")
    starts = {r for a, r in pairs if a == "states:StartExecution"}
    assert starts == {"ref:CollectStateMachine", "ref:RetrainStateMachine"}


def test_the_machines_use_our_roles_not_plugin_generated_ones(packaged_template):
    res = packaged_template["Resources"]
    assert "[object Object]" not in json.dumps(packaged_template)
    trusted_by_states = {
        k
        for k, v in res.items()
        if v["Type"] == "AWS::IAM::Role"
        and "states.amazonaws.com" in json.dumps(v["Properties"]["AssumeRolePolicyDocument"])
    }
    assert trusted_by_states == {f"{m}StateMachineRole" for m in ("Main", "Collect", "Retrain")}


def test_projects_are_named_for_service_and_stage_and_run_the_repo_buildspecs(packaged_template):
    res = packaged_template["Resources"]
    for job in ("collect", "retrain"):
        props = res[f"{job.capitalize()}Project"]["Properties"]
        assert props["Name"] == f"gesture-stack-ci-{job}"
        assert props["Source"]["BuildSpec"] == f"buildspecs/{job}.yml"
        assert props["Source"]["Location"].endswith(
            "/" + SOURCE_KEY
        )  # where pipeline-source puts it
        env = {v["Name"]: v["Value"] for v in props["Environment"]["EnvironmentVariables"]}
        events = {"EVENTS_TABLE": {"Ref": "EventsTable"}} if job == "collect" else {}
        assert env == {"DATA_BUCKET": {"Ref": "DataBucket"}, "STAGE": "ci", **events}
    names = {
        res[f"{m}StateMachine"]["Properties"]["StateMachineName"]
        for m in ("Main", "Collect", "Retrain")
    }
    assert names == {
        "gesture-stack-ci-main",
        "gesture-stack-ci-collect",
        "gesture-stack-ci-retrain",
    }


@pytest.mark.parametrize(
    ("role", "writes", "queries"),
    [
        (
            "CollectProjectRole",
            {"runs/*"},
            {
                "${EventsTable.Arn}/index/fleet-by-day-shard",
                "arn:EventsTable",  # DescribeTable, ExportTableToPointInTime (large ranges)
                "${EventsTable.Arn}/export/*",
            },
        ),
        ("RetrainProjectRole", {"runs/*", "models/*"}, set()),
    ],
)
def test_job_roles_write_only_their_bucket_prefixes(packaged_template, role, writes, queries):
    pairs = granted(packaged_template, role)
    put = {r.removeprefix("${DataBucket.Arn}/") for a, r in pairs if a == "s3:PutObject"}
    assert put == writes
    assert {r for a, r in pairs if a.startswith("dynamodb:")} == queries
    reads = {"dynamodb:Query", "dynamodb:DescribeTable"}
    exports = {"dynamodb:ExportTableToPointInTime", "dynamodb:DescribeExport"}
    assert {a for a, _ in pairs if a.startswith("dynamodb:")} <= reads | exports
    assert all(r != "*" for _, r in pairs)
    assert {a.split(":")[0] for a, _ in pairs} <= {"logs", "s3", "dynamodb"}
