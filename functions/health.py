"""GET /health: liveness for load balancers and the dashboard (no API key needed)."""

from functions.api import Route, endpoint
from functions.models.common import Health


@endpoint(Route("GET", "/health", "Liveness", Health, auth=False))
def handler(request) -> Health:
    return Health(status="ok")
