"""Who may do what: devices write their own data, the dashboard reads everyone's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from functions.exceptions import Forbidden

Role = Literal["device", "dashboard"]


@dataclass(frozen=True)
class Device:
    device_id: str
    role: Role = "device"


def writer(device: Device, claimed_device_id: str | None) -> str:
    """The device id data is written under; a device cannot write as another one."""
    if device.role != "device":
        raise Forbidden("this API key may not write device data")
    if claimed_device_id is not None and claimed_device_id != device.device_id:
        raise Forbidden("this API key belongs to another device", field="device_id")
    return device.device_id


def reader(device: Device, device_id: str | None) -> str | None:
    """The device whose events may be read (None = the whole fleet, dashboard only)."""
    if device.role == "dashboard":
        return device_id
    if device_id is not None and device_id != device.device_id:
        raise Forbidden("a device may only read its own events", field="device_id")
    return device.device_id


def dashboard_only(device: Device) -> None:
    """The fleet-wide read views (devices, counts, models) are for dashboard keys only."""
    if device.role != "dashboard":
        raise Forbidden("only a dashboard key may read the fleet's devices, counts and models")


def keys_per_device(device_ids: list[str]) -> dict[str, int]:
    """Device id -> how many keys it has (one id per registered key), in device id order."""
    found: dict[str, int] = {}
    for device_id in sorted(device_ids):
        found[device_id] = found.get(device_id, 0) + 1
    return found
