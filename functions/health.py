"""GET /health: liveness for load balancers and the dashboard (no API key needed)."""

from functions.api import build_app, lambda_handler
from functions.models import Health

app = build_app()


@app.get("/health")
def get_health() -> Health:
    return Health(status="ok")


handler = lambda_handler(app)
