"""The events table: conditional batch writes (stored once) and newest-first queries."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from functions.adapters.dynamo_items import from_item, to_item
from functions.domain.events import FLEET_SHARDS, fleet_partition
from functions.exceptions import Unavailable

FLEET_INDEX = "fleet-by-day-shard"  # (fleet_part, fleet_key): infra/storage.yml
_ATTEMPTS = 4
_PARALLEL_QUERIES = 16  # a day's first shard pages are read at once


@cache
def _pool() -> ThreadPoolExecutor:
    """One pool per process (a warm Lambda keeps it), not one per day read."""
    return ThreadPoolExecutor(_PARALLEL_QUERIES)


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

    def stored_copies(self, records: list[dict]) -> list[dict | None]:
        """The stored event each record was found a duplicate of (by its id marker's
        stored_key, else its event_key), None where none is left; strongly consistent reads."""
        markers = self._get_many([(r["device_id"], r["id_key"]) for r in records if "id_key" in r])
        keys = []
        for record in records:
            marker = markers.get((record["device_id"], record.get("id_key")))
            key = marker["stored_key"] if marker else record["event_key"]
            keys.append((record["device_id"], key))
        found = self._get_many(keys)
        return [found.get(key) for key in keys]

    def _get_many(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """(device_id, event_key) -> item, for those stored: BatchGetItem, 100 keys a call."""
        unique, found = list(dict.fromkeys(keys)), {}
        for start in range(0, len(unique), _MAX_ITEMS):
            request = {
                self._table: {
                    "Keys": [
                        {"device_id": {"S": device}, "event_key": {"S": key}}
                        for device, key in unique[start : start + _MAX_ITEMS]
                    ],
                    "ConsistentRead": True,
                }
            }
            for _ in range(_ATTEMPTS):
                response = self._client.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(self._table, []):
                    record = from_item(item)
                    found[(record["device_id"], record["event_key"])] = record
                request = response.get("UnprocessedKeys")
                if not request:
                    break
            else:
                raise Unavailable("the events table kept leaving keys unread; retry")
        return found

    def query_device(self, device_id: str, low_key: str, high_key: str, limit: int) -> list[dict]:
        """Up to `limit` events of one device, low <= event_key <= high, newest first."""
        return self._query(
            limit,
            KeyConditionExpression="device_id = :p AND event_key BETWEEN :lo AND :hi",
            ExpressionAttributeValues=self._values(device_id, low_key, high_key),
        )

    def query_day(self, day: str, low_key: str, high_key: str, limit: int) -> list[dict]:
        """Up to `limit` events of every device on one UTC day, low <= fleet_key <= high,
        newest first (the first `limit` of fleet_day)."""
        page = min(limit, 1000)
        return list(itertools.islice(self.fleet_day(day, low_key, high_key, page), limit))

    def fleet_day(self, day: str, low_key: str, high_key: str, page: int = 1000) -> Iterator[dict]:
        """Every event of the fleet on one UTC day, low <= fleet_key <= high, newest first:
        the day's shards of the fleet index, each read newest first in pages of `page`
        (their first pages at once), merged by fleet_key. The one fleet reader: GET /events,
        the dashboard's counts and the collect job all read through it."""
        parts = [fleet_partition(day, shard) for shard in range(FLEET_SHARDS)]
        firsts = list(_pool().map(lambda p: self._fleet_page(p, low_key, high_key, page), parts))
        streams = [
            self._fleet_stream(p, low_key, high_key, page, first)
            for p, first in zip(parts, firsts, strict=True)
        ]
        yield from heapq.merge(*streams, key=lambda r: r["fleet_key"], reverse=True)

    def _fleet_page(self, part: str, low: str, high: str, page: int, start=None) -> dict:
        query = {
            "TableName": self._table,
            "IndexName": FLEET_INDEX,
            "ScanIndexForward": False,
            "Limit": page,
            "KeyConditionExpression": "fleet_part = :p AND fleet_key BETWEEN :lo AND :hi",
            "ExpressionAttributeValues": self._values(part, low, high),
        }
        if start is not None:
            query["ExclusiveStartKey"] = start
        return self._client.query(**query)

    def _fleet_stream(self, part: str, low: str, high: str, page: int, response: dict):
        while True:
            yield from (from_item(item) for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return
            response = self._fleet_page(part, low, high, page, response["LastEvaluatedKey"])

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
