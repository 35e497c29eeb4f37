"""Pydantic v2 models of every request and response: the source of the OpenAPI document.

One module per endpoint, so a Lambda builds only the models it serves. Names are importable
from here too (`from functions.models import EventBatch`); the module loads on first use.
"""

import importlib

_MODULE_OF = {
    "Strict": "common",
    "Query": "common",
    "ErrorBody": "common",
    "Health": "common",
    "GestureEvent": "events",
    "EventBatch": "events",
    "EventsAccepted": "events",
    "StoredEvent": "events",
    "EventPage": "events",
    "EventsQuery": "events",
    "AxisRms": "telemetry",
    "Telemetry": "telemetry",
    "TelemetryAccepted": "telemetry",
    "SampleWindow": "samples",
    "SampleStored": "samples",
    "ModelFile": "release",
    "ModelRelease": "release",
    "ModelQuery": "release",
}


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'functions.models' has no attribute {name!r}")
    return getattr(importlib.import_module(f"functions.models.{module}"), name)
