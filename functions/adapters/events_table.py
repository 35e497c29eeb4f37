"""The events table: conditional batch writes (stored once) and newest-first queries."""

from __future__ import annotations

from dataclasses import dataclass

from functions.adapters.dynamo_items import from_item, to_item
from functions.exceptions import Unavailable

FLEET_INDEX = "fleet-by-day"
_ATTEMPTS = 4
_MAX_ITEMS = 100  # TransactWriteItems limit


def _chunks(records: list[dict]) -> list[list[dict]]:
    """Consecutive runs of records whose items fit one transaction."""
    chunks: list[list[dict]] = [[]]
    items = 0
    for record in records:
        size = 2 if "id_key" in record else 1
        if items + size > _MAX_ITEMS:
            chunks.append([])
            items = 0
        chunks[-1].append(record)
        items += size
    return [c for c in chunks if c]


@dataclass(frozen=True)
class WriteResult:
    new: list[dict]
    duplicates: list[dict]


class EventsTable:
    def __init__(self, client, table_name: str):
        self._client = client
        self._table = table_name

    def put_new(self, records: list[dict]) -> WriteResult:
        """Store records whose idempotency key is not taken yet, all or nothing per transaction.

        A record with an `id_key` is written with a marker item under that key (one record,
        two items); without one, its own event_key is the condition. One TransactWriteItems
        call per 100 items; a retried batch fails its conditions and costs one call per
        transaction; a partly stored batch costs one more.
        """
        pending, duplicates, new = list(records), [], []
        for chunk in _chunks(pending):
            stored, dup = self._put_chunk(chunk)
            new += stored
            duplicates += dup
        return WriteResult(new, duplicates)

    def _put_chunk(self, pending: list[dict]) -> tuple[list[dict], list[dict]]:
        duplicates: list[dict] = []
        for _ in range(_ATTEMPTS):
            if not pending:
                return [], duplicates
            items, owner = [], []
            for n, record in enumerate(pending):
                for item in self._puts(record):
                    items.append(item)
                    owner.append(n)
            try:
                self._client.transact_write_items(TransactItems=items)
                return pending, duplicates
            except self._client.exceptions.TransactionCanceledException as error:
                reasons = error.response.get("CancellationReasons", [])
                failed = {
                    owner[i]
                    for i, reason in enumerate(reasons)
                    if reason.get("Code") == "ConditionalCheckFailed"
                }
                duplicates += [r for i, r in enumerate(pending) if i in failed]
                pending = [r for i, r in enumerate(pending) if i not in failed]
        raise Unavailable("the events table kept cancelling the transaction; retry")

    def _puts(self, record: dict) -> list[dict]:
        record = dict(record)
        marker_key = record.pop("id_key", None)
        puts = [self._put(record)]
        if marker_key is not None:
            marker = {
                "device_id": record["device_id"],
                "event_key": marker_key,
                "stored_key": record["event_key"],
                "expires_at": record["expires_at"],
            }
            puts.insert(0, self._put(marker))
        return puts

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
