"""The packaged stack: what `npx osls deploy` would create, checked without an AWS account."""

from __future__ import annotations

import zipfile
from pathlib import Path


def _resources(template: dict, type_: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def test_every_function_runs_python312_on_arm64_with_the_managed_powertools_layer(
    packaged_template,
):
    functions = _resources(packaged_template, "AWS::Lambda::Function")
    assert functions, "the stack has no Lambda functions"
    for name, fn in functions.items():
        props = fn["Properties"]
        assert props["Runtime"] == "python3.12", name
        assert props["Architectures"] == ["arm64"], name
        layers = [str(layer) for layer in props.get("Layers", [])]
        assert any("AWSLambdaPowertoolsPythonV3" in layer for layer in layers), name
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "gesture-stack"
        assert env["POWERTOOLS_METRICS_NAMESPACE"]
        assert env["POWERTOOLS_LOG_LEVEL"]


def test_bucket_is_versioned_encrypted_and_private(packaged_template):
    bucket = packaged_template["Resources"]["DataBucket"]
    props = bucket["Properties"]
    assert props["VersioningConfiguration"]["Status"] == "Enabled"
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert bucket["DeletionPolicy"] == "Retain"


def test_bucket_policy_denies_every_request_without_tls(packaged_template):
    policies = _resources(packaged_template, "AWS::S3::BucketPolicy").values()
    ours = [p for p in policies if p["Properties"]["Bucket"] == {"Ref": "DataBucket"}]
    assert len(ours) == 1, "one policy on the data bucket"
    (policy,) = ours
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    deny = [s for s in statements if s["Effect"] == "Deny"]
    assert len(deny) == 1
    (d,) = deny
    assert d["Principal"] == "*" and d["Action"] in ("s3:*", ["s3:*"])
    assert d["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    resources = d["Resource"]
    assert {"Fn::GetAtt": ["DataBucket", "Arn"]} in resources  # the bucket (list, policy...)
    assert any("/*" in str(r) for r in resources)  # and every object in it
    assert not [s for s in statements if s["Effect"] == "Allow"], "no grants in this policy"


def test_api_requires_a_key_and_has_a_throttled_usage_plan(packaged_template):
    plans = _resources(packaged_template, "AWS::ApiGateway::UsagePlan")
    assert len(plans) == 1
    plan = next(iter(plans.values()))["Properties"]
    assert plan["Throttle"]["RateLimit"] > 0 and plan["Throttle"]["BurstLimit"] > 0
    assert plan["Quota"]["Limit"] > 0
    methods = _resources(packaged_template, "AWS::ApiGateway::Method")
    keyed = {
        m["Properties"]["HttpMethod"] + " " + str(m["Properties"]["ResourceId"])
        for m in methods.values()
        if m["Properties"].get("ApiKeyRequired")
    }
    device_facing = [m for m in methods.values() if m["Properties"]["HttpMethod"] == "POST"]
    assert device_facing, "no POST endpoints"
    assert all(m["Properties"].get("ApiKeyRequired") for m in device_facing), keyed


def test_tables_are_on_demand_recoverable_and_expire_what_expires(packaged_template):
    tables = _resources(packaged_template, "AWS::DynamoDB::Table")
    assert {"DevicesTable", "EventsTable", "TelemetryTable"} <= set(tables)
    for name, table in tables.items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
    for name in ("DevicesTable", "EventsTable"):
        spec = tables[name]["Properties"]["PointInTimeRecoverySpecification"]
        assert spec["PointInTimeRecoveryEnabled"] is True, name
    for name in ("EventsTable", "TelemetryTable"):
        ttl = tables[name]["Properties"]["TimeToLiveSpecification"]
        assert ttl["Enabled"] is True and ttl["AttributeName"], name


def test_lambda_packages_leave_out_local_tools_tests_firmware_and_training(packaged_template):
    functions = _resources(packaged_template, "AWS::Lambda::Function")
    artifacts = {fn["Properties"]["Code"]["S3Key"].rsplit("/", 1)[-1] for fn in functions.values()}
    assert artifacts, "no function artifacts"
    out = Path(packaged_template["_package_dir"])
    for artifact in artifacts:
        names = zipfile.ZipFile(out / artifact).namelist()
        assert any(n.startswith("functions/") for n in names), artifact
        for banned in ("local_handlers/", "tests/", "firmware/", "training/", "node_modules/"):
            assert not any(n.startswith(banned) for n in names), (artifact, banned)
        assert not any(n.startswith(".venv/") or "__pycache__" in n for n in names), artifact
