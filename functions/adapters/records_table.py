"""Single-item tables: device registry (API key id -> device) and telemetry heartbeats."""

from __future__ import annotations

import time

from functions.adapters.dynamo_items import from_item, to_item
from functions.domain.devices import Device

ROLE_INDEX = "devices-by-role"


class DevicesTable:
    """API key id -> device; lookups are cached for a minute per warm Lambda."""

    def __init__(self, client, table_name: str, cache_s: float = 60.0):
        self._client = client
        self._table = table_name
        self._cache_s = cache_s
        self._cache: dict[str, tuple[float, Device | None]] = {}

    def lookup(self, api_key_id: str) -> Device | None:
        hit = self._cache.get(api_key_id)
        now = time.monotonic()
        if hit is not None and now - hit[0] < self._cache_s:
            return hit[1]
        response = self._client.get_item(
            TableName=self._table, Key={"api_key_id": {"S": api_key_id}}
        )
        item = response.get("Item")
        device = None
        if item is not None:
            record = from_item(item)
            device = Device(device_id=record["device_id"], role=record.get("role", "device"))
        self._cache[api_key_id] = (now, device)
        return device

    def with_role(self, role: str) -> list[tuple[str, bool]]:
        """(device id, revoked) of every key with this role (one Query on the role index);
        `gesture-stack devices revoke` and `rotate` note `revoked_at` on a disabled key."""
        keys: list[tuple[str, bool]] = []
        query = {
            "TableName": self._table,
            "IndexName": ROLE_INDEX,
            "KeyConditionExpression": "#role = :r",
            "ExpressionAttributeNames": {"#role": "role"},
            "ExpressionAttributeValues": {":r": {"S": role}},
            "ProjectionExpression": "device_id, revoked_at",
        }
        while True:
            response = self._client.query(**query)
            keys += [(i["device_id"]["S"], "revoked_at" in i) for i in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return keys
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def register(self, api_key_id: str, device: Device) -> None:
        record = {"api_key_id": api_key_id, "device_id": device.device_id, "role": device.role}
        self._client.put_item(TableName=self._table, Item=to_item(record))
        self._cache.pop(api_key_id, None)


class TelemetryTable:
    """One item per device and device time: a retried heartbeat overwrites itself."""

    def __init__(self, client, table_name: str):
        self._client = client
        self._table = table_name

    def put(self, record: dict) -> None:
        self._client.put_item(TableName=self._table, Item=to_item(record))

    def latest(self, device_id: str, limit: int = 10) -> list[dict]:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="device_id = :d",
            ExpressionAttributeValues={":d": {"S": device_id}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [from_item(item) for item in response.get("Items", [])]
