"""Each API function's role (the packaged template) allows every AWS request its handler
makes, found by running every sample request of events/<function>/ on moto before and after a
model is published and recording the S3 and DynamoDB requests.

moto enforces no IAM, so this is where a missing permission shows before AWS. A GetObject also
needs `s3:ListBucket` on the bucket with `s3:prefix` = the key: without it a key that is not
there yet (models/current.json before the first promotion, a run's records) is a 403
AccessDenied on AWS, not a 404; and where S3 answers 403 all the same, the reads list the key
(functions.adapters.data_bucket.get_if_present), so every sample also runs with S3 answering a
missing key 403 and those list requests are checked too.
"""

from __future__ import annotations

import fnmatch
import hashlib
import importlib
import json
from pathlib import Path

import pytest
from api_helpers import EVENTS

from functions import storage_layout, wiring
from functions.domain.devices import Device
from functions.settings import get_settings
from localcloud.aws import local_aws
from localcloud.lambda_runtime import LambdaContext
from localcloud.stack import load_infra

BUCKET_ARN = "arn:aws:s3:::BUCKET"
FUNCTIONS = sorted(load_infra("functions"))


TABLES = {"events_table": "EventsTable", "telemetry_table": "TelemetryTable",
          "devices_table": "DevicesTable"}  # fmt: skip


def _resolve(value) -> str:
    """A policy resource as an ARN: the data bucket as BUCKET_ARN, a table as arn:table:<id>."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        logical, _ = value["Fn::GetAtt"]
        return BUCKET_ARN if logical == "DataBucket" else f"arn:table:{logical}"
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(_resolve(p) for p in parts)
    if "Fn::Sub" in value:
        return value["Fn::Sub"].replace("${DataBucket.Arn}", BUCKET_ARN)
    raise AssertionError(f"unexpected resource form {value}")


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def _condition_holds(condition: dict, context: dict[str, str]) -> bool:
    for operator, tests in condition.items():
        match = {"StringEquals": str.__eq__, "StringLike": fnmatch.fnmatchcase}.get(operator)
        assert match is not None, f"teach this test the {operator} condition"
        for key, wanted in tests.items():
            if key not in context or not any(match(context[key], w) for w in _listed(wanted)):
                return False
    return True


def allows(template: dict, role: str, action: str, resource: str, context: dict) -> bool:
    """IAM's Allow evaluation for one request (this stack uses no Deny and no NotAction)."""
    for policy in template["Resources"][role]["Properties"].get("Policies", []):
        for st in policy["PolicyDocument"]["Statement"]:
            assert st["Effect"] == "Allow" and "NotAction" not in st and "NotResource" not in st
            if not any(fnmatch.fnmatchcase(action, a) for a in _listed(st["Action"])):
                continue
            if not any(fnmatch.fnmatchcase(resource, _resolve(r)) for r in _listed(st["Resource"])):
                continue
            if _condition_holds(st.get("Condition", {}), context):
                return True
    return False


def needed(service: str, operation: str, params: dict, tables: dict[str, str] | None = None):
    """[(action, resource, condition context)] a request needs (AWS: the IAM actions of S3 and
    DynamoDB); `tables`: table name -> its logical id in the template."""
    if service == "dynamodb":
        return _dynamodb_needs(operation, params, tables or {})
    key = params.get("Key")
    if operation in ("GetObject", "HeadObject"):
        return [
            ("s3:GetObject", f"{BUCKET_ARN}/{key}", {}),
            # a missing key: 404, not 403 (and the list get_if_present makes after a 403)
            ("s3:ListBucket", BUCKET_ARN, {"s3:prefix": key}),
        ]
    if operation == "PutObject":
        return [("s3:PutObject", f"{BUCKET_ARN}/{key}", {})]
    if operation in ("ListObjectsV2", "ListObjects"):
        return [("s3:ListBucket", BUCKET_ARN, {"s3:prefix": params.get("Prefix", "")})]
    raise AssertionError(f"teach this test the IAM action of S3 {operation}")


def _dynamodb_needs(operation: str, params: dict, tables: dict[str, str]):
    def arn(name: str, index: str | None = None) -> str:
        return f"arn:table:{tables[name]}" + (f"/index/{index}" if index else "")

    if operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"):
        return [(f"dynamodb:{operation}", arn(params["TableName"], params.get("IndexName")), {})]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [(f"dynamodb:{operation}", arn(t), {}) for t in params["RequestItems"]]
    if operation == "TransactWriteItems":  # each item needs its own action
        actions = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                   "ConditionCheck": "ConditionCheckItem"}  # fmt: skip
        return [
            (f"dynamodb:{actions[kind]}", arn(item[kind]["TableName"]), {})
            for item in params["TransactItems"]
            for kind in item
        ]
    raise AssertionError(f"teach this test the IAM action of DynamoDB {operation}")


class Requests:
    """Records (service, operation, params) of the handlers' S3 and DynamoDB requests while
    `on`."""

    def __init__(self):
        self.on = False
        self.seen: list[tuple[str, str, dict]] = []

    def attach(self) -> None:
        """Listen on the current clients (wiring makes new ones after each reset)."""
        for service, client in (("s3", wiring.s3()), ("dynamodb", wiring.dynamodb())):
            client.meta.events.register(
                f"before-parameter-build.{service}",
                lambda params, model, service=service, **_: self._seen(service, params, model),
            )

    def _seen(self, service, params, model):
        if self.on:
            self.seen.append((service, model.name, dict(params)))


def _publish(tmp_path: Path, version: str) -> None:
    folder = tmp_path / version
    folder.mkdir()
    payload = b"M\x06tree"
    (folder / "model.mpy").write_bytes(payload)
    files = {"model.mpy": {"sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}}
    manifest = {"version": version, "classes": ["idle", "circle", "x", "y"], "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    wiring.models().publish(folder)
    # a run that promoted it, whose collect record is missing (an older run)
    report = storage_layout.run_record_key("r1", storage_layout.RUN_PROMOTION_REPORT)
    body = json.dumps({"promoted": True, "candidate": {"version": version}}).encode()
    wiring.s3().put_object(Bucket=get_settings().data_bucket, Key=report, Body=body)


def _run_samples(function: str, recorder: Requests, deny=None) -> None:
    """Every events/<function>/*.json through the handler, as a new warm Lambda would; `deny`:
    makes the S3 client answer a missing key 403 (tests/conftest.py without_list_rights)."""
    spec = load_infra("functions")[function]
    module, name = spec["handler"].rsplit(".", 1)
    handler = getattr(importlib.import_module(module.replace("/", ".")), name)
    samples = sorted((EVENTS / function).glob("*.json"))
    assert samples, f"events/{function}/ has no sample requests"
    wiring.reset()  # nothing cached from before
    if deny is not None:
        deny(wiring.s3())
    recorder.attach()
    recorder.on = True
    try:
        for path in samples:
            handler(json.loads(path.read_text()), LambdaContext(function_name=function))
    finally:
        recorder.on = False
        wiring.reset()  # what comes next uses clients without the recorder or `deny`


def aws_requests(function: str, tmp_path: Path, deny) -> tuple[list[tuple[str, str, dict]], dict]:
    """Every AWS request the function's sample requests make: nothing published yet, a release
    published, and a bucket from before models/vocabulary.json, each as S3 answers a missing
    key with 404 and with 403 (`deny`: then the reads list it); and table name -> logical id."""
    recorder = Requests()
    with local_aws():
        tables = {getattr(get_settings(), field): logical for field, logical in TABLES.items()}
        for entry in json.loads((EVENTS / "devices.json").read_text()):
            device = Device(device_id=entry["device_id"], role=entry["role"])
            wiring.devices().register(entry["api_key_id"], device)
        passes = (None, deny)
        for answer in passes:
            _run_samples(function, recorder, answer)
        _publish(tmp_path, "20251124120000-0badc0de")
        for answer in passes:
            _run_samples(function, recorder, answer)
        bucket = get_settings().data_bucket
        wiring.s3().delete_object(Bucket=bucket, Key=storage_layout.VOCABULARY_KEY)
        for answer in passes:
            _run_samples(function, recorder, answer)
    assert all(p["Bucket"] == bucket for service, _, p in recorder.seen if service == "s3")
    return recorder.seen, tables


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_role_allows_every_aws_request_the_handler_makes(
    packaged_template, function, tmp_path, without_list_rights
):
    resources = packaged_template["Resources"]
    logical = function.capitalize() + "LambdaFunction"
    role = resources[logical]["Properties"]["Role"]["Fn::GetAtt"][0]
    requests, tables = aws_requests(function, tmp_path, without_list_rights)
    # each missing key S3 answered 403 was listed (and that list is checked below)
    lists = {p.get("Prefix") for _, operation, p in requests if operation == "ListObjectsV2"}
    assert set(without_list_rights.denied) <= lists
    if any(operation == "GetObject" for _, operation, _ in requests):
        assert without_list_rights.denied, "no pass read a missing key as S3 may answer it"
    missing = sorted(
        {
            f"{action} {resource} {context or ''} for {operation} {params.get('Key', '')}"
            for service, operation, params in requests
            for action, resource, context in needed(service, operation, params, tables)
            if not allows(packaged_template, role, action, resource, context)
        }
    )
    assert not missing, f"{role} lacks:\n" + "\n".join(missing)


def test_the_check_sees_a_missing_list_permission():
    """The evaluator itself: GetObject alone does not make a missing key a 404."""
    statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{BUCKET_ARN}/models/*"}
    template = {"Resources": {"R": {"Properties": {"Policies": [
        {"PolicyDocument": {"Statement": [statement]}}
    ]}}}}  # fmt: skip
    wanted = needed("s3", "GetObject", {"Key": "models/current.json"})
    assert [allows(template, "R", *n) for n in wanted] == [True, False]
    statement["Action"] = ["s3:GetObject", "s3:ListBucket"]
    assert [allows(template, "R", *n) for n in wanted] == [True, False]  # object ARN, not bucket
    listing = {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET_ARN}
    listing["Condition"] = {"StringEquals": {"s3:prefix": ["models/"]}}
    statement_list = template["Resources"]["R"]["Properties"]["Policies"][0]
    statement_list["PolicyDocument"]["Statement"].append(listing)
    assert [allows(template, "R", *n) for n in wanted] == [True, False]  # another prefix
    listing["Condition"] = {"StringLike": {"s3:prefix": ["models/*"]}}
    assert [allows(template, "R", *n) for n in wanted] == [True, True]


def test_a_transaction_needs_the_action_of_each_of_its_items():
    tables = {"t-events": "EventsTable", "t-devices": "DevicesTable"}
    items = [{"Put": {"TableName": "t-events"}}, {"ConditionCheck": {"TableName": "t-devices"}}]
    assert needed("dynamodb", "TransactWriteItems", {"TransactItems": items}, tables) == [
        ("dynamodb:PutItem", "arn:table:EventsTable", {}),
        ("dynamodb:ConditionCheckItem", "arn:table:DevicesTable", {}),
    ]
    query = {"TableName": "t-events", "IndexName": "fleet-by-day-shard"}
    assert needed("dynamodb", "Query", query, tables) == [
        ("dynamodb:Query", "arn:table:EventsTable/index/fleet-by-day-shard", {})
    ]
