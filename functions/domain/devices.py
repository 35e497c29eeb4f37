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


@dataclass(frozen=True)
class Keys:
    registered: int  # API keys the device has had
    active: int  # of them not revoked

    @property
    def revoked(self) -> bool:
        """Every key revoked: the device can no longer send."""
        return self.active == 0


def keys_per_device(keys: list[tuple[str, bool]]) -> dict[str, Keys]:
    """(device id, key revoked) per registered key -> device id -> its keys, in id order."""
    found: dict[str, Keys] = {}
    for device_id, revoked in sorted(keys):
        seen = found.get(device_id, Keys(0, 0))
        found[device_id] = Keys(seen.registered + 1, seen.active + (not revoked))
    return found
