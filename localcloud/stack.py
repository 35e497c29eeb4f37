"""The one reader of serverless.yml and infra/*.yml: what the stack deploys, named locally.

Routes, function environments, tables, the bucket, the usage plan, CodeBuild projects and state
machines all come from the files that deploy, with the serverless variables our names use
filled in for a stage (`local` by default). State machine definitions are the
statemachines/*.asl.json files with their `#{LogicalId}` placeholders filled in as
CloudFormation's Fn::Sub does when deployed.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SERVICE = "gesture-stack"
LOCAL_STAGE = "local"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
_PLACEHOLDER = re.compile(r"#\{([A-Za-z0-9:]+)\}")
_SLS_VARIABLE = re.compile(r"\$\{([^}]+)\}")
_FILE_VARIABLE = re.compile(r"^\$\{file\(([^)]+)\)\}$")


@cache
def _load(relative: str) -> str:
    return (REPO / relative).read_text()


def load_yaml(relative: str) -> dict:
    """A file of the stack as plain data (the files use long-form intrinsics only)."""
    return yaml.safe_load(_load(relative))


def load_infra(name: str) -> dict:
    """infra/<name>.yml as plain data."""
    return load_yaml(f"infra/{name}.yml")


def resolve(template: str, stage: str = LOCAL_STAGE) -> str:
    """Fill the serverless variables our names use; any other variable is an error."""
    names = load_yaml("serverless.yml")["custom"]["names"]
    known = {"self:service": SERVICE, "sls:stage": stage}

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name in known:
            return known[name]
        if name.startswith("self:custom.names."):
            return resolve(names[name.removeprefix("self:custom.names.")], stage)
        raise ValueError(f"cannot resolve ${{{name}}} locally in {template!r}")

    return _SLS_VARIABLE.sub(one, template)


def resolve_name(template: str, stage: str = LOCAL_STAGE) -> str:
    """A resource name of infra/*.yml for `stage` (service and stage variables only)."""
    return template.replace("${self:service}", SERVICE).replace("${sls:stage}", stage)


def substitute(definition: str, values: dict[str, str]) -> str:
    """Fill `#{Name}` placeholders of an ASL definition (Fn::Sub semantics: every one known)."""
    unknown = sorted(set(_PLACEHOLDER.findall(definition)) - set(values))
    if unknown:
        raise ValueError(f"no local value for placeholder(s): {unknown}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], definition)


# -- storage ----------------------------------------------------------------------------------
def table_definitions(stage: str = LOCAL_STAGE) -> dict[str, dict]:
    """CreateTable arguments per logical id, straight from infra/storage.yml."""
    tables = {}
    for logical_id, resource in load_infra("storage")["Resources"].items():
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        spec = {
            "TableName": resolve_name(props["TableName"], stage),
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            spec["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        tables[logical_id] = spec
    return tables


def table_names(stage: str = LOCAL_STAGE) -> dict[str, str]:
    """Logical id -> name of every table in infra/storage.yml."""
    return {logical_id: t["TableName"] for logical_id, t in table_definitions(stage).items()}


def local_bucket(stage: str = LOCAL_STAGE) -> str:
    """The data bucket's local name: the API's local default (functions/settings.py)."""
    return f"{SERVICE}-{stage}-data"


def usage_plan_name(stage: str) -> str:
    """The usage plan the framework creates for `provider.apiGateway.usagePlan`."""
    return f"{SERVICE}-{stage}"


def create_storage(dynamodb, s3, bucket: str, region: str = REGION, stage=LOCAL_STAGE) -> None:
    """Every table of infra/storage.yml and the data bucket, unless they exist."""
    for spec in table_definitions(stage).values():
        with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
            dynamodb.create_table(**spec)
    config = {} if region == "us-east-1" else {"LocationConstraint": region}
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": config} if config else {}))
    # versioned, as infra/storage.yml's DataBucket: every models/current.json ever written stays
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})


# -- functions and routes ---------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    function: str
    handler: str  # "functions/ingest.handler"
    method: str
    path: str
    private: bool

    def load(self):
        module, _, attr = self.handler.partition(".")
        return getattr(importlib.import_module(module.replace("/", ".")), attr)


def load_routes() -> list[Route]:
    """Every `http` event of infra/functions.yml."""
    routes = []
    for name, spec in load_infra("functions").items():
        for event in spec.get("events", []):
            http = event.get("http")
            if http:
                path = "/" + http["path"].strip("/")
                private = http.get("private", False)
                routes.append(Route(name, spec["handler"], http["method"].upper(), path, private))
    return routes


def function_environment(function: str) -> dict[str, str]:
    """The plain values of a function's `environment` in infra/functions.yml; values that need
    the framework (`${...}`) are left to the settings' local defaults."""
    spec = load_infra("functions")[function].get("environment") or {}
    return {
        name: str(value)
        for name, value in spec.items()
        if isinstance(value, str | int) and "${" not in str(value)
    }


# -- pipeline ---------------------------------------------------------------------------------
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
    machines = load_infra("stepfunctions")["stateMachines"]
    specs = []
    for key, machine in machines.items():
        path = _FILE_VARIABLE.match(machine["definition"]).group(1)
        specs.append(MachineSpec(key, machine["id"], resolve(machine["name"], stage), REPO / path))
    return sorted(specs, key=lambda s: s.key == "main")


def project_specs(bucket: str, stage: str = LOCAL_STAGE) -> list[ProjectSpec]:
    """infra/pipeline.yml's CodeBuild projects with their environment, resolved locally."""
    refs = {"DataBucket": bucket, **table_names(stage)}
    specs = []
    for logical_id, resource in load_infra("pipeline")["Resources"].items():
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


def create_pipeline(sfn, codebuild, bucket: str, stage: str = LOCAL_STAGE) -> dict[str, str]:
    """Create the CodeBuild projects and the machines; return placeholder values (and ARNs)."""
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
            serviceRole=f"arn:aws:iam::{ACCOUNT}:role/{project.logical_id}Role",
        )
        values[project.logical_id] = project.name
    for machine in machine_specs(stage):
        definition = substitute(machine.definition_path.read_text(), values)
        json.loads(definition)  # a bad substitution must fail here, not mid-run
        arn = sfn.create_state_machine(
            name=machine.name,
            definition=definition,
            roleArn=f"arn:aws:iam::{ACCOUNT}:role/{machine.logical_id}Role",
        )["stateMachineArn"]
        values[machine.logical_id] = arn
    return values


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
