"""infra/functions.yml + infra/storage.yml: names wired to handlers, least-privilege roles."""

from localcloud.stack import load_infra, table_definitions


def _statements(template: dict, role: str) -> list[dict]:
    policies = template["Resources"][role]["Properties"].get("Policies", [])
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _actions(template: dict, role: str) -> set[str]:
    found = set()
    for statement in _statements(template, role):
        action = statement["Action"]
        found |= {action} if isinstance(action, str) else set(action)
    return found


def test_tables_are_built_from_storage_yml_keys():
    tables = table_definitions("ci")
    assert tables["EventsTable"]["TableName"] == "gesture-stack-ci-events"
    assert [k["AttributeName"] for k in tables["EventsTable"]["KeySchema"]] == [
        "device_id",
        "event_key",
    ]
    [fleet] = tables["EventsTable"]["GlobalSecondaryIndexes"]
    assert fleet["IndexName"] == "fleet-by-day-shard"
    assert [k["AttributeName"] for k in fleet["KeySchema"]] == ["fleet_part", "fleet_key"]
    assert [k["AttributeName"] for k in tables["DevicesTable"]["KeySchema"]] == ["api_key_id"]
    [by_role] = tables["DevicesTable"]["GlobalSecondaryIndexes"]
    assert [k["AttributeName"] for k in by_role["KeySchema"]] == ["role", "device_id"]


def test_every_api_function_gets_its_table_and_bucket_names(packaged_template):
    resources = packaged_template["Resources"]

    def name(logical_id, prop="TableName"):
        return resources[logical_id]["Properties"][prop]

    for function in ("Ingest", "Telemetry", "Samples", "Query", "Model", "Devices", "Counts"):
        env = resources[f"{function}LambdaFunction"]["Properties"]["Environment"]["Variables"]
        assert env["EVENTS_TABLE"] == name("EventsTable") == "gesture-stack-ci-events"
        assert env["TELEMETRY_TABLE"] == name("TelemetryTable")
        assert env["DEVICES_TABLE"] == name("DevicesTable")
        assert env["DATA_BUCKET"] == name("DataBucket", "BucketName")


def test_each_function_has_its_own_least_privilege_role(packaged_template):
    resources = packaged_template["Resources"]
    roles = {
        name: resources[f"{name}LambdaFunction"]["Properties"]["Role"]["Fn::GetAtt"][0]
        for name in (
            "Health",
            "Ingest",
            "Telemetry",
            "Samples",
            "Query",
            "Model",
            "Devices",
            "Counts",
            "Releases",
        )
    }
    assert len(set(roles.values())) == len(roles)
    assert _actions(packaged_template, roles["Health"]) == set()
    assert _actions(packaged_template, roles["Ingest"]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:BatchGetItem",
        "s3:GetObject",  # the fleet's vocabulary (models/vocabulary.json)
        "s3:ListBucket",
    }
    assert _actions(packaged_template, roles["Telemetry"]) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
    }
    assert _actions(packaged_template, roles["Samples"]) == {"dynamodb:GetItem", "s3:PutObject"}
    assert _actions(packaged_template, roles["Query"]) == {"dynamodb:GetItem", "dynamodb:Query"}
    assert _actions(packaged_template, roles["Model"]) == {
        "dynamodb:GetItem",
        "s3:GetObject",
        "s3:ListBucket",
    }
    assert _actions(packaged_template, roles["Devices"]) == {"dynamodb:GetItem", "dynamodb:Query"}
    assert _actions(packaged_template, roles["Counts"]) == {"dynamodb:GetItem", "dynamodb:Query"}
    assert _actions(packaged_template, roles["Releases"]) == {
        "dynamodb:GetItem",
        "s3:ListBucket",
        "s3:GetObject",
    }
    # S3 reads: only under models/ (and the two run records the releases view shows)
    for role in ("Ingest", "Model", "Releases"):
        for statement in _statements(packaged_template, roles[role]):
            if statement["Action"] == "s3:ListBucket":
                [(operator, tests)] = statement["Condition"].items()
                assert operator in ("StringEquals", "StringLike")
                assert all(p.startswith(("models/", "runs/")) for p in tests["s3:prefix"]), role
    for role in roles.values():
        for statement in _statements(packaged_template, role):
            assert statement["Resource"] != "*"


def test_only_health_is_reachable_without_an_api_key():
    functions = load_infra("functions")
    for name, spec in functions.items():
        for event in spec["events"]:
            assert event["http"].get("private", False) is (name != "health"), name
