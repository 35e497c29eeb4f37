"""Helpers for the API tests: sample events from events/, event edits, DynamoDB call counting."""

import copy
import json
from pathlib import Path

from functions import wiring

REPO = Path(__file__).resolve().parents[2]
EVENTS = REPO / "events"
SAMPLE_NOW_MS = 1_764_028_800_000  # requestTimeEpoch of every sample event


def sample(name: str) -> dict:
    """A copy of events/<name>.json."""
    return copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))


def with_body(event: dict, body) -> dict:
    event = copy.deepcopy(event)
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    return event


def with_query(event: dict, **params) -> dict:
    event = copy.deepcopy(event)
    query = {k: str(v) for k, v in params.items() if v is not None}
    event["queryStringParameters"] = query or None
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} or None
    return event


def as_key(event: dict, api_key_id: str | None) -> dict:
    event = copy.deepcopy(event)
    event["requestContext"]["identity"]["apiKeyId"] = api_key_id
    return event


def body(response: dict) -> dict:
    return json.loads(response["body"])


class WriteCounter:
    """Counts DynamoDB write requests made through the handlers' client."""

    WRITES = ("PutItem", "BatchWriteItem", "TransactWriteItems", "UpdateItem")

    def __init__(self):
        self.calls: list[str] = []
        wiring.dynamodb().meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model, **_):
        self.calls.append(model.name)

    @property
    def writes(self) -> list[str]:
        return [c for c in self.calls if c in self.WRITES]


def all_items(table: str) -> list[dict]:
    return wiring.dynamodb().scan(TableName=table)["Items"]
