"""The events table: conditional batch writes (stored once) and newest-first queries."""

from __future__ import annotations

from dataclasses import dataclass

from functions.adapters.dynamo_items import from_item, to_item
from functions.exceptions import Unavailable

FLEET_INDEX = "fleet-by-day"
_ATTEMPTS = 4


@dataclass(frozen=True)
class WriteResult:
    new: list[dict]
    duplicates: list[dict]


class EventsTable:
    def __init__(self, client, table_name: str):
        self._client = client
        self._table = table_name

    def put_new(self, records: list[dict]) -> WriteResult:
        """Store records whose key is not there yet, all or nothing per transaction.

        One TransactWriteItems call for a new batch; a retried batch fails its conditions
        and costs one call; a partly stored batch costs two.
        """
        pending, duplicates = list(records), []
        for _ in range(_ATTEMPTS):
            if not pending:
                return WriteResult([], duplicates)
            try:
                self._client.transact_write_items(TransactItems=[self._put(r) for r in pending])
                return WriteResult(pending, duplicates)
            except self._client.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons", [])
                failed = {
                    i
                    for i, reason in enumerate(reasons)
                    if reason.get("Code") == "ConditionalCheckFailed"
                }
                duplicates += [r for i, r in enumerate(pending) if i in failed]
                pending = [r for i, r in enumerate(pending) if i not in failed]
        raise Unavailable("the events table kept cancelling the transaction; retry")

    def _put(self, record: dict) -> dict:
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(record),
                "ConditionExpression": "attribute_not_exists(event_key)",
            }
        }

    def query_device(self, device_id: str, low_key: str, high_key: str, limit: int) -> list[dict]:
        """Up to `limit` events of one device, low <= event_key <= high, newest first."""
        return self._query(
            limit,
            KeyConditionExpression="device_id = :p AND event_key BETWEEN :lo AND :hi",
            ExpressionAttributeValues=self._values(device_id, low_key, high_key),
        )

    def query_day(self, day: str, low_key: str, high_key: str, limit: int) -> list[dict]:
        """Up to `limit` events of every device on one UTC day, low <= fleet_key <= high."""
        return self._query(
            limit,
            IndexName=FLEET_INDEX,
            KeyConditionExpression="#day = :p AND fleet_key BETWEEN :lo AND :hi",
            ExpressionAttributeNames={"#day": "day"},
            ExpressionAttributeValues=self._values(day, low_key, high_key),
        )

    @staticmethod
    def _values(partition: str, low: str, high: str) -> dict:
        return {":p": {"S": partition}, ":lo": {"S": low}, ":hi": {"S": high}}

    def _query(self, limit: int, **query) -> list[dict]:
        items: list[dict] = []
        while len(items) < limit:
            response = self._client.query(
                TableName=self._table, ScanIndexForward=False, Limit=limit - len(items), **query
            )
            items += [from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return items
