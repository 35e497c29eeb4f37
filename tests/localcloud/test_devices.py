"""`gesture-stack devices` against a deployed stage (on moto) and against the local cloud."""

from __future__ import annotations

import json
import re

import boto3
import pytest
from moto import mock_aws

from gesture_stack import cli, device
from localcloud.server import LocalCloud
from localcloud.stack import table_definitions, usage_plan_name

API_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/dev"


@pytest.fixture
def stage(monkeypatch):
    """What a deploy of stage `dev` leaves: the usage plan and the devices table (moto)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        apigw = boto3.client("apigateway", region_name="eu-west-1")
        plan = apigw.create_usage_plan(name=usage_plan_name("dev"))["id"]
        boto3.client("dynamodb", region_name="eu-west-1").create_table(
            **table_definitions("dev")["DevicesTable"]
        )
        yield apigw, plan


def run(capsys, *args) -> tuple[int, str]:
    code = cli.main(["devices", *args])
    return code, capsys.readouterr().out


def printed_key(out: str) -> str:
    return re.search(r" key=(\S+)", out).group(1)


def devices_items() -> dict[str, dict]:
    ddb = boto3.client("dynamodb", region_name="eu-west-1")
    items = ddb.scan(TableName="gesture-stack-dev-devices")["Items"]
    return {i["api_key_id"]["S"]: {k: next(iter(v.values())) for k, v in i.items()} for i in items}


def test_add_creates_the_key_attaches_it_and_stores_the_device_with_its_role(stage, capsys):
    apigw, plan = stage
    code, out = run(capsys, "add", "board-1", "--role", "dashboard", "--stage", "dev")
    assert code == 0
    key_id = out.split("api_key_id=")[1].split()[0]
    value = printed_key(out)
    assert apigw.get_api_key(apiKey=key_id, includeValue=True)["value"] == value
    assert [k["id"] for k in apigw.get_usage_plan_keys(usagePlanId=plan)["items"]] == [key_id]
    assert devices_items()[key_id] | {"created_at": "-"} == {
        "api_key_id": key_id,
        "device_id": "board-1",
        "role": "dashboard",
        "created_at": "-",
    }


def test_the_key_is_printed_by_add_and_rotate_only(stage, capsys):
    first = printed_key(run(capsys, "add", "dev-1", "--stage", "dev")[1])
    listing = run(capsys, "list", "--stage", "dev")[1]
    assert "dev-1" in listing and "enabled" in listing and first not in listing
    code, rotated = run(capsys, "rotate", "dev-1", "--stage", "dev")
    second = printed_key(rotated)
    assert code == 0 and second != first
    revoked = run(capsys, "revoke", "dev-1", "--stage", "dev")[1]
    assert first not in revoked and second not in revoked
    assert first not in run(capsys, "list", "--stage", "dev")[1]


def test_revoke_disables_the_key_and_rotate_disables_the_old_one(stage, capsys):
    apigw, _ = stage
    run(capsys, "add", "dev-1", "--stage", "dev")
    [old] = devices_items()
    run(capsys, "rotate", "dev-1", "--stage", "dev")
    [new] = set(devices_items()) - {old}
    assert apigw.get_api_key(apiKey=old)["enabled"] is False
    assert apigw.get_api_key(apiKey=new)["enabled"] is True
    assert "revoked_at" in devices_items()[old] and "revoked_at" not in devices_items()[new]
    assert run(capsys, "revoke", "dev-1", "--stage", "dev")[0] == 0
    assert apigw.get_api_key(apiKey=new)["enabled"] is False
    assert "revoked_at" in devices_items()[new]  # GET /devices tells a revoked device by it
    assert "revoked" in run(capsys, "list", "--stage", "dev")[1]


def test_mistakes_are_one_line_errors(stage, capsys):
    run(capsys, "add", "dev-1", "--stage", "dev")
    assert run(capsys, "add", "dev-1", "--stage", "dev")[0] == 2  # already has a key
    assert run(capsys, "revoke", "nobody", "--stage", "dev")[0] == 2
    assert run(capsys, "rotate", "nobody", "--stage", "dev")[0] == 2
    assert run(capsys, "list", "--stage", "prod")[0] == 2  # no such usage plan


def test_config_out_for_a_stage_keeps_tls_and_leaves_wifi_to_the_user(stage, capsys, tmp_path):
    out = tmp_path / "config.json"
    run(capsys, "add", "dev-1", "--stage", "dev", "--api-url", API_URL, "--config-out", str(out))
    config = json.loads(out.read_text())
    assert config["api_url"] == API_URL and config["tls_ca"] == "amazon-root-ca-1.der"
    example = json.loads((device.FIRMWARE / "config.example.json").read_text())
    assert config["wifi"] == example["wifi"]
    assert out.stat().st_mode & 0o077 == 0  # it holds a key


def test_local_config_out_is_accepted_by_flash_and_by_the_simulated_device(capsys, tmp_path):
    with LocalCloud(port=0, pipeline=False) as cloud:
        out = tmp_path / "cfg.json"
        code, text = run(capsys, "add", "dev-1", "--endpoint", cloud.url, "--config-out", str(out))
        assert code == 0
        key = printed_key(text)
        assert cloud.api_key_id(key) is not None
        build = device.stage_flash(tmp_path / "flash", out, None)  # what `make flash` does
        assert json.loads((build / "config.json").read_text())["api_key"] == key
        parser = cli.build_parser()
        args = parser.parse_args(["device", "--config", str(out), "--recording", "r.csv"])
        assert device.api_settings(args) == (cloud.url, key)
        written = json.loads(out.read_text())
        assert "tls_ca" not in written and written["allow_http"] is True  # the local cloud


def test_a_revoked_device_leaves_the_local_clouds_fleet_view(capsys):
    """`devices revoke` through the local cloud, then GET /devices as the dashboard sees it."""
    from tests.cloud_http import call

    with LocalCloud(port=0, pipeline=False) as cloud:
        for name in ("dev-1", "dev-2"):
            assert run(capsys, "add", name, "--endpoint", cloud.url)[0] == 0
        board = printed_key(
            run(capsys, "add", "board", "--role", "dashboard", "--endpoint", cloud.url)[1]
        )
        assert run(capsys, "revoke", "dev-2", "--endpoint", cloud.url)[0] == 0
        status, _, body = call(cloud, "GET", "/devices", key=board)
        assert status == 200
        assert [d["device_id"] for d in json.loads(body)["items"]] == ["dev-1"]
        status, _, body = call(cloud, "GET", "/devices?include_revoked=true", key=board)
        listed = {d["device_id"]: d["revoked"] for d in json.loads(body)["items"]}
        assert listed == {"dev-1": False, "dev-2": True}


def test_revoking_again_marks_a_key_revoked_before_revoked_at_existed(stage, capsys):
    """A key disabled by an older version has no `revoked_at`, so GET /devices still listed
    its device: `devices revoke` again notes it (and keeps a `revoked_at` already there)."""
    apigw, _ = stage
    run(capsys, "add", "dev-1", "--stage", "dev")
    run(capsys, "rotate", "dev-1", "--stage", "dev")
    old = next(k for k, item in devices_items().items() if "revoked_at" in item)
    new = next(k for k in devices_items() if k != old)
    rotated_at = "2025-01-01T00:00:00+00:00"
    boto3.client("dynamodb", region_name="eu-west-1").update_item(
        TableName="gesture-stack-dev-devices",
        Key={"api_key_id": {"S": old}},
        UpdateExpression="SET revoked_at = :t",
        ExpressionAttributeValues={":t": {"S": rotated_at}},
    )
    apigw.update_api_key(  # revoked the old way: disabled, nothing noted
        apiKey=new, patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}]
    )
    assert "revoked_at" not in devices_items()[new]
    code, out = run(capsys, "revoke", "dev-1", "--stage", "dev")
    assert code == 0 and f"key {new} was disabled already; revoked_at noted" in out
    assert "revoked_at" in devices_items()[new]
    assert devices_items()[old]["revoked_at"] == rotated_at  # noted once
    assert run(capsys, "revoke", "dev-1", "--stage", "dev")[0] == 0  # again: still fine
    assert apigw.get_api_key(apiKey=new)["enabled"] is False
