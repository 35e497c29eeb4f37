"""GET /devices: every device with its newest heartbeat (dashboard key only).

A device whose every key is revoked is left out unless `include_revoked=true` (then listed
with `revoked: true`): the fleet is the devices that may still send. One Query on the devices
table's devices-by-role index, then one Query per listed device for its newest telemetry item.
Never a Scan.
"""

from functions import wiring
from functions.api import Request, Route, endpoint
from functions.domain import devices
from functions.models.dashboard import DeviceList, DevicesQuery, DeviceStatus, Health

ROUTE = Route(
    "GET",
    "/devices",
    "Devices and their newest heartbeat; revoked ones only if asked for (dashboard key)",
    DeviceList,
    query=DevicesQuery,
)


@endpoint(ROUTE)
def handler(request: Request) -> DeviceList:
    devices.dashboard_only(request.device)
    params: DevicesQuery = request.query
    keys = devices.keys_per_device(wiring.devices().with_role("device"))
    items = []
    for device_id, held in keys.items():
        if held.revoked and not params.include_revoked:
            continue
        newest = wiring.telemetry().latest(device_id, limit=1)
        health = Health.model_validate(newest[0]) if newest else None
        items.append(
            DeviceStatus(
                device_id=device_id, keys=held.registered, revoked=held.revoked, health=health
            )
        )
    return DeviceList(items=items)
