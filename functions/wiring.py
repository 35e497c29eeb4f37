"""AWS clients and adapters, created once per process on first use (warm Lambdas reuse them)."""

from __future__ import annotations

from functools import cache

import boto3
from botocore.config import Config

from functions.adapters.data_bucket import ModelStore, SamplesBucket
from functions.adapters.events_table import EventsTable
from functions.adapters.records_table import DevicesTable, TelemetryTable
from functions.settings import get_settings


@cache
def dynamodb():
    return boto3.client("dynamodb", region_name=get_settings().region)


@cache
def s3():
    config = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
    return boto3.client("s3", region_name=get_settings().region, config=config)


@cache
def devices() -> DevicesTable:
    return DevicesTable(dynamodb(), get_settings().devices_table)


@cache
def events() -> EventsTable:
    return EventsTable(dynamodb(), get_settings().events_table)


@cache
def telemetry() -> TelemetryTable:
    return TelemetryTable(dynamodb(), get_settings().telemetry_table)


@cache
def samples() -> SamplesBucket:
    return SamplesBucket(s3(), get_settings().data_bucket)


@cache
def models() -> ModelStore:
    return ModelStore(s3(), get_settings().data_bucket)


def reset() -> None:
    """Forget settings, clients and caches (tests and the local API switch environments)."""
    for factory in (dynamodb, s3, devices, events, telemetry, samples, models, get_settings):
        factory.cache_clear()
