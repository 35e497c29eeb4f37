"""GET /devices: every device with its newest heartbeat (dashboard key only).

One Query on the devices table's devices-by-role index, then one Query per device for its
newest telemetry item. Never a Scan.
"""

from functions import wiring
from functions.api import Request, Route, endpoint
from functions.domain import devices
from functions.models.dashboard import DeviceList, DeviceStatus, Health

ROUTE = Route("GET", "/devices", "Devices and their newest heartbeat (dashboard key)", DeviceList)


@endpoint(ROUTE)
def handler(request: Request) -> DeviceList:
    devices.dashboard_only(request.device)
    keys = devices.keys_per_device(wiring.devices().with_role("device"))
    items = []
    for device_id, count in keys.items():
        newest = wiring.telemetry().latest(device_id, limit=1)
        health = Health.model_validate(newest[0]) if newest else None
        items.append(DeviceStatus(device_id=device_id, keys=count, health=health))
    return DeviceList(items=items)
