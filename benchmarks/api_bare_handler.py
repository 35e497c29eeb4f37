"""Baseline for the cold-import benchmark: the same job as functions/ingest.py with bare boto3.

No Powertools, no pydantic: json.loads, hand-written checks, the fleet's vocabulary read once
from the bucket (as functions.wiring.vocabulary keeps it), one TransactWriteItems call.
Not deployed; only benchmarks/api_handlers.py imports it.
"""

import json
import os
import re

import boto3

# functions.models.common.GESTURE_NAME_PATTERN, not imported (that is pydantic); a test pins it
GESTURE_NAME = r"^[a-z][a-z0-9_]{0,31}$"
TABLE = os.environ.get("EVENTS_TABLE", "gesture-stack-local-events")
BUCKET = os.environ.get("DATA_BUCKET", "gesture-stack-local-data")
VOCABULARY = "models/vocabulary.json"  # functions.storage_layout.VOCABULARY_KEY, not imported
REGION = os.environ.get("AWS_REGION", "eu-west-1")
dynamodb = boto3.client("dynamodb", region_name=REGION)
s3 = boto3.client("s3", region_name=REGION)
_known: set | None = None


def known() -> set:
    global _known
    if _known is None:
        try:
            body = s3.get_object(Bucket=BUCKET, Key=VOCABULARY)["Body"].read()
            _known = set(json.loads(body)["gestures"])
        except s3.exceptions.NoSuchKey:
            return set()
    return _known


def handler(event, context):
    try:
        events = json.loads(event["body"])["events"]
    except (KeyError, TypeError, ValueError):
        return {"statusCode": 400, "body": json.dumps({"message": "bad body"})}
    if not 1 <= len(events) <= 100 or any(
        not re.match(GESTURE_NAME, str(e.get("gesture"))) for e in events
    ):
        return {"statusCode": 400, "body": json.dumps({"message": "bad events"})}
    if any(e["gesture"] not in known() for e in events):
        return {"statusCode": 400, "body": json.dumps({"message": "unknown gesture"})}
    device = event["requestContext"]["identity"]["apiKeyId"]
    items = [
        {
            "Put": {
                "TableName": TABLE,
                "Item": {
                    "device_id": {"S": device},
                    "event_key": {"S": f"{e['t_ms']:013d}#{e['seq']:010d}"},
                    "gesture": {"S": e["gesture"]},
                },
                "ConditionExpression": "attribute_not_exists(event_key)",
            }
        }
        for e in events
    ]
    dynamodb.transact_write_items(TransactItems=items)
    return {"statusCode": 200, "body": json.dumps({"accepted": len(items)})}
