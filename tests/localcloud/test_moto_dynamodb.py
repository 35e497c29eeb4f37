"""localcloud.moto_dynamodb: TransactWriteItems as moto does it, without copying tables."""

from __future__ import annotations

import copy
import inspect

import boto3
import moto
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.models import DynamoDBBackend

from localcloud import moto_dynamodb


def test_is_pinned_to_the_moto_version_whose_transactions_copy_tables():
    """Fails when moto changes: then re-check whether the patch is still needed."""
    assert moto.__version__ == moto_dynamodb.MOTO_VERSION
    source = inspect.getsource(moto_dynamodb._ORIGINAL)
    assert "copy.deepcopy(" in source and "original_table_state" in source


def test_refuses_another_moto_version(monkeypatch):
    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match=r"9\.9\.9"), moto_dynamodb.patched_transactions():
        pass


@pytest.fixture(params=["moto", "patched"])
def table(request):
    """The same table under moto's own transactions and under the patch: same answers."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="t",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        if request.param == "patched":
            with moto_dynamodb.patched_transactions():
                yield client
        else:
            yield client


def put(sk: str, value: str = "1", condition: bool = True) -> dict:
    op = {"TableName": "t", "Item": {"pk": {"S": "d"}, "sk": {"S": sk}, "v": {"S": value}}}
    if condition:
        op["ConditionExpression"] = "attribute_not_exists(sk)"
    return {"Put": op}


def items(client) -> dict[str, str]:
    return {i["sk"]["S"]: i["v"]["S"] for i in client.scan(TableName="t")["Items"]}


def test_a_new_batch_is_stored_whole(table):
    table.transact_write_items(TransactItems=[put("a"), put("b")])
    assert items(table) == {"a": "1", "b": "1"}


def test_one_failed_condition_cancels_all_and_says_which(table):
    table.transact_write_items(TransactItems=[put("b", "old")])
    with pytest.raises(ClientError) as failed:
        table.transact_write_items(TransactItems=[put("a"), put("b", "new"), put("c")])
    reasons = failed.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert items(table) == {"b": "old"}  # a and c rolled back, b untouched


def test_rollback_restores_an_overwritten_and_an_updated_item(table):
    table.transact_write_items(TransactItems=[put("a", "old"), put("u", "old")])
    update = {
        "Update": {
            "TableName": "t",
            "Key": {"pk": {"S": "d"}, "sk": {"S": "u"}},
            "UpdateExpression": "SET v = :v",
            "ExpressionAttributeValues": {":v": {"S": "changed"}},
        }
    }
    with pytest.raises(ClientError):
        table.transact_write_items(
            TransactItems=[put("a", "new", condition=False), update, put("a2"), put("a", "x")]
        )
    assert items(table) == {"a": "old", "u": "old"}


def test_all_old_returns_the_item_that_failed_the_condition(table):
    table.transact_write_items(TransactItems=[put("a", "old")])
    op = put("a", "new")
    op["Put"]["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    with pytest.raises(ClientError) as failed:
        table.transact_write_items(TransactItems=[op])
    assert failed.value.response["CancellationReasons"][0]["Item"]["v"] == {"S": "old"}


def test_the_patch_copies_only_the_touched_items(monkeypatch):
    with mock_aws(), moto_dynamodb.patched_transactions():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        client.create_table(
            TableName="t",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        client.transact_write_items(TransactItems=[put(f"old{i}") for i in range(50)])
        copied = []
        real = copy.deepcopy

        def spy(value, *args):
            copied.append(type(value).__name__)
            return real(value, *args)

        monkeypatch.setattr(moto_dynamodb.copy, "deepcopy", spy)
        client.transact_write_items(TransactItems=[put("old1", condition=False), put("n")])
    assert "Table" not in copied
    assert copied.count("Item") <= 2


def test_the_patch_is_what_the_backend_runs_inside_the_block():
    with moto_dynamodb.patched_transactions():
        assert DynamoDBBackend.transact_write_items is moto_dynamodb.transact_write_items
    assert DynamoDBBackend.transact_write_items is moto_dynamodb._ORIGINAL
