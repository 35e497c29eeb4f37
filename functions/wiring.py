"""AWS clients and adapters, created once per process on first use (warm Lambdas reuse them)."""

from __future__ import annotations

from functools import cache

import botocore.session
from botocore.config import Config

from functions.adapters.data_bucket import ModelStore, RunRecords, SamplesBucket, VocabularyCache
from functions.adapters.events_table import EventsTable
from functions.adapters.records_table import DevicesTable, TelemetryTable
from functions.settings import get_settings


@cache
def _session() -> botocore.session.Session:
    # botocore directly: boto3 adds nothing we use and its import (s3transfer) is a third of
    # the cold start. Credentials, region and AWS_ENDPOINT_URL resolve as usual.
    return botocore.session.get_session()


@cache
def dynamodb():
    return _session().create_client("dynamodb", region_name=get_settings().region)


@cache
def s3():
    config = Config(signature_version="s3v4", s3={"addressing_style": "virtual"})
    return _session().create_client("s3", region_name=get_settings().region, config=config)


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


@cache
def run_records() -> RunRecords:
    return RunRecords(s3(), get_settings().data_bucket)


@cache
def vocabulary() -> VocabularyCache:
    """The fleet's gestures, kept by the warm Lambda (revalidated by ETag on a miss)."""
    return VocabularyCache(models().vocabulary_if_changed)


def reset() -> None:
    """Forget settings, clients and caches (tests and the local API switch environments)."""
    factories = (
        _session,
        dynamodb,
        s3,
        devices,
        events,
        telemetry,
        samples,
        models,
        run_records,
        vocabulary,
    )
    for factory in (*factories, get_settings):
        factory.cache_clear()
