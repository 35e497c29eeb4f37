"""The pipeline's AWS resources in an embedded moto, built from the same files that deploy.

Names come from serverless.yml (`custom.names`) and infra/*.yml; definitions are the
statemachines/*.asl.json files with their `#{LogicalId}` placeholders filled in as
CloudFormation's Fn::Sub does when deployed. A ThreadedMotoServer serves the same moto to the
job processes (AWS_ENDPOINT_URL), so the buildspecs run unchanged as local processes.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SERVICE = "gesture-stack"
LOCAL_STAGE = "local"
REGION = "eu-west-1"
_PLACEHOLDER = re.compile(r"#\{([A-Za-z0-9:]+)\}")
_SLS_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_FILE_VARIABLE = re.compile(r"^\$\{file\(([^)]+)\)\}$")


def load_yaml(relative: str) -> dict:
    return yaml.safe_load((REPO / relative).read_text())


def resolve(template: str, stage: str = LOCAL_STAGE) -> str:
    """Fill the serverless variables our names use; any other variable is an error."""
    names = load_yaml("serverless.yml")["custom"]["names"]
    known = {
        "self:service": SERVICE,
        "sls:stage": stage,
    }

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name in known:
            return known[name]
        if name.startswith("self:custom.names."):
            return resolve(names[name.removeprefix("self:custom.names.")], stage)
        raise ValueError(f"cannot resolve ${{{name}}} locally in {template!r}")

    return _SLS_VARIABLE.sub(one, template)


def substitute(definition: str, values: dict[str, str]) -> str:
    """Fill `#{Name}` placeholders of an ASL definition (Fn::Sub semantics: every one known)."""
    unknown = sorted(set(_PLACEHOLDER.findall(definition)) - set(values))
    if unknown:
        raise ValueError(f"no local value for placeholder(s): {unknown}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], definition)


@dataclass(frozen=True)
class MachineSpec:
    key: str  # main, collect, retrain
    logical_id: str
    name: str
    definition_path: Path


@dataclass(frozen=True)
class ProjectSpec:
    logical_id: str
    name: str
    buildspec: str
    environment: dict[str, str]


def machine_specs(stage: str = LOCAL_STAGE) -> list[MachineSpec]:
    """infra/stepfunctions.yml's machines, children first (main needs their ARNs)."""
    machines = load_yaml("infra/stepfunctions.yml")["stateMachines"]
    specs = []
    for key, machine in machines.items():
        path = _FILE_VARIABLE.match(machine["definition"]).group(1)
        specs.append(MachineSpec(key, machine["id"], resolve(machine["name"], stage), REPO / path))
    return sorted(specs, key=lambda s: s.key == "main")


def table_names(stage: str = LOCAL_STAGE) -> dict[str, str]:
    """Logical id -> local name of every table in infra/storage.yml."""
    resources = load_yaml("infra/storage.yml")["Resources"]
    return {
        logical_id: resolve(r["Properties"]["TableName"], stage)
        for logical_id, r in resources.items()
        if r["Type"] == "AWS::DynamoDB::Table"
    }


def project_specs(bucket: str, stage: str = LOCAL_STAGE) -> list[ProjectSpec]:
    """infra/pipeline.yml's CodeBuild projects with their environment, resolved locally."""
    refs = {"DataBucket": bucket, **table_names(stage)}
    specs = []
    for logical_id, resource in load_yaml("infra/pipeline.yml")["Resources"].items():
        if resource["Type"] != "AWS::CodeBuild::Project":
            continue
        props = resource["Properties"]
        env = {}
        for var in props["Environment"].get("EnvironmentVariables", []):
            value = var["Value"]
            env[var["Name"]] = (
                refs[value["Ref"]] if isinstance(value, dict) else resolve(value, stage)
            )
        name = resolve(props["Name"], stage)
        specs.append(ProjectSpec(logical_id, name, props["Source"]["BuildSpec"], env))
    return specs


def quiet_moto_logs() -> Callable[[], None]:
    """moto logs every caught task failure as a warning; the runner reports them itself.
    Returns the function that restores the previous levels."""
    loggers = [logging.getLogger(name) for name in ("moto.stepfunctions", "werkzeug")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)

    def restore() -> None:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)

    return restore


def local_bucket(stage: str = LOCAL_STAGE) -> str:
    """The data bucket's local name: the API's local default (functions/settings.py)."""
    return f"{SERVICE}-{stage}-data"


def create_tables(dynamodb, stage: str = LOCAL_STAGE) -> None:
    """The tables of infra/storage.yml (the local API's definitions), unless they exist."""
    from gesture_stack.localapi import table_definitions

    for spec in table_definitions(stage).values():
        with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
            dynamodb.create_table(**spec)


def create_stack(sfn, codebuild, s3, bucket: str, stage: str = LOCAL_STAGE) -> dict[str, str]:
    """Create bucket, projects and machines; return placeholder values (and machine ARNs)."""
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):  # the local API made it
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    # versioned, as infra/storage.yml's DataBucket: every models/current.json ever written stays
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    values = {"Stage": stage, "AWS::Region": REGION, "AWS::Partition": "aws"}
    for project in project_specs(bucket, stage):
        codebuild.create_project(
            name=project.name,
            source={"type": "S3", "location": f"{bucket}/pipeline/source.zip"},
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
            },
            serviceRole=f"arn:aws:iam::123456789012:role/{project.logical_id}Role",
        )
        values[project.logical_id] = project.name
    for machine in machine_specs(stage):
        definition = substitute(machine.definition_path.read_text(), values)
        json.loads(definition)  # a bad substitution must fail here, not mid-run
        arn = sfn.create_state_machine(
            name=machine.name,
            definition=definition,
            roleArn=f"arn:aws:iam::123456789012:role/{machine.logical_id}Role",
        )["stateMachineArn"]
        values[machine.logical_id] = arn
    return values
