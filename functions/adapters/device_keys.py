"""Provisioning: a device's API key, its usage-plan attachment and its devices-table item.

API Gateway checks the key (enabled and in the stage's usage plan) before any code runs; the
handlers map the key's id to `{device_id, role}` through the devices table. So provisioning is
three calls, and revoking is disabling the key (API Gateway then answers 403 at once) and
noting `revoked_at` on its item. Used by
`gesture-stack devices` against a deployed stage and against the local cloud, which serves the
same API Gateway and DynamoDB calls.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from functions.adapters.dynamo_items import from_item, to_item
from functions.domain.devices import Device
from functions.exceptions import InvalidInput, NotFound

ROLES = ("device", "dashboard")


@dataclass(frozen=True)
class DeviceRecord:
    device_id: str
    role: str
    api_key_id: str
    enabled: bool
    created_at: str


@dataclass(frozen=True)
class IssuedKey:
    device_id: str
    role: str
    api_key_id: str
    value: str  # shown once, by add and rotate


class DeviceKeys:
    def __init__(self, apigateway, dynamodb, devices_table: str, usage_plan_id: str, prefix: str):
        self._apigw = apigateway
        self._ddb = dynamodb
        self._table = devices_table
        self._plan = usage_plan_id
        self._prefix = prefix  # API key names: "<prefix>-<device id>"

    @staticmethod
    def find_usage_plan(apigateway, name: str) -> str:
        for page in apigateway.get_paginator("get_usage_plans").paginate():
            for plan in page["items"]:
                if plan["name"] == name:
                    return plan["id"]
        raise NotFound(f"no usage plan named {name}: is the stage deployed?")

    def add(self, device_id: str, role: str = "device") -> IssuedKey:
        if role not in ROLES:
            raise InvalidInput(f"role must be one of {', '.join(ROLES)}", field="role")
        if any(r.enabled for r in self._records(device_id)):
            raise InvalidInput(f"{device_id} already has an enabled key: use rotate", "device_id")
        return self._issue(device_id, role)

    def list(self) -> list[DeviceRecord]:
        return sorted(self._records(None), key=lambda r: (r.device_id, r.created_at))

    def revoke(self, device_id: str) -> list[DeviceRecord]:
        """Disable every key of the device and note `revoked_at` on each key's item (kept when
        there is one); returns the keys as they were (`enabled`: disabled now). Idempotent: a
        key disabled before `revoked_at` was noted (rotated away, or revoked by an older
        version) gets it now, so GET /devices leaves the device out."""
        records = self._records(device_id)
        if not records:
            raise NotFound(f"{device_id} has no key")
        for record in records:
            self._disable(record.api_key_id)
        return records

    def rotate(self, device_id: str) -> IssuedKey:
        """A new key for the device (same role); the old ones are disabled."""
        records = [r for r in self._records(device_id) if r.enabled]
        if not records:
            raise NotFound(f"{device_id} has no enabled key: use add")
        issued = self._issue(device_id, records[-1].role)
        for record in records:
            self._disable(record.api_key_id)
        return issued

    def value(self, api_key_id: str) -> str:
        return self._apigw.get_api_key(apiKey=api_key_id, includeValue=True)["value"]

    def _issue(self, device_id: str, role: str) -> IssuedKey:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        key = self._apigw.create_api_key(
            name=f"{self._prefix}-{device_id}-{now.replace(':', '')}",
            description=f"{role} {device_id}",
            enabled=True,
        )
        self._apigw.create_usage_plan_key(
            usagePlanId=self._plan, keyId=key["id"], keyType="API_KEY"
        )
        device = Device(device_id=device_id, role=role)
        record = {
            "api_key_id": key["id"],
            "device_id": device.device_id,
            "role": device.role,
            "created_at": now,
        }
        self._ddb.put_item(TableName=self._table, Item=to_item(record))
        return IssuedKey(device_id, role, key["id"], key["value"])

    def _disable(self, api_key_id: str) -> None:
        """Disable the key (API Gateway refuses it at once; disabling a disabled key changes
        nothing) and note when on its devices-table item, unless noted before, which GET
        /devices reads (it has no API Gateway rights)."""
        self._apigw.update_api_key(
            apiKey=api_key_id,
            patchOperations=[{"op": "replace", "path": "/enabled", "value": "false"}],
        )
        self._ddb.update_item(
            TableName=self._table,
            Key={"api_key_id": {"S": api_key_id}},
            UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
            ConditionExpression="attribute_exists(api_key_id)",
            ExpressionAttributeValues={
                ":now": {"S": datetime.now(UTC).isoformat(timespec="seconds")}
            },
        )

    def _records(self, device_id: str | None) -> list[DeviceRecord]:
        """Devices-table items (a Scan: provisioning is an admin task on a small table)."""
        query = {"TableName": self._table}
        if device_id is not None:
            query |= {
                "FilterExpression": "device_id = :d",
                "ExpressionAttributeValues": {":d": {"S": device_id}},
            }
        items = []
        for page in self._ddb.get_paginator("scan").paginate(**query):
            items += [from_item(item) for item in page.get("Items", [])]
        enabled = self._enabled_keys()
        return [
            DeviceRecord(
                device_id=item["device_id"],
                role=item.get("role", "device"),
                api_key_id=item["api_key_id"],
                enabled=item["api_key_id"] in enabled,
                created_at=item.get("created_at", ""),
            )
            for item in items
        ]

    def _enabled_keys(self) -> set[str]:
        """Ids of the enabled keys attached to the usage plan (what API Gateway accepts)."""
        attached = set()
        for page in self._apigw.get_paginator("get_usage_plan_keys").paginate(
            usagePlanId=self._plan
        ):
            attached |= {k["id"] for k in page["items"]}
        enabled = set()
        for page in self._apigw.get_paginator("get_api_keys").paginate():
            enabled |= {k["id"] for k in page["items"] if k.get("enabled")}
        return attached & enabled
