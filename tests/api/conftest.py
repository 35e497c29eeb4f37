"""API test fixtures: moto with the tables of infra/storage.yml, sample events, a Lambda context."""

import json

import pytest
from api_helpers import EVENTS, WriteCounter

from functions import wiring
from functions.domain.devices import Device
from localcloud.aws import local_aws
from localcloud.lambda_runtime import LambdaContext

# A release the fleet may run: what the sample events (events/) name.
PUBLISHED = {"version": "20251120093000-1a2b3c4d", "classes": ["idle", "circle", "x", "y"]}


@pytest.fixture
def aws():
    """A fresh in-process moto AWS with every table and the bucket; sample devices registered."""
    with local_aws():
        for entry in json.loads((EVENTS / "devices.json").read_text()):
            device = Device(device_id=entry["device_id"], role=entry["role"])
            wiring.devices().register(entry["api_key_id"], device)
        wiring.models().add_to_vocabulary(PUBLISHED)  # the gestures of events/ are known
        yield


@pytest.fixture
def lambda_context():
    return LambdaContext(function_name="gesture-stack-test")


@pytest.fixture
def dynamodb_calls(aws):
    """Counts the DynamoDB requests the handlers make."""
    return WriteCounter()


def pytest_collection_modifyitems(items):
    """Powertools warns on every request without metrics (functions.api silences it in Lambda;
    pytest resets warning filters per test)."""
    quiet = pytest.mark.filterwarnings("ignore:No application metrics to publish")
    for item in items:
        if "tests/api/" in item.nodeid:
            item.add_marker(quiet)
