"""GET /health: liveness for load balancers and the dashboard."""

import json


def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"status": "ok"})}
