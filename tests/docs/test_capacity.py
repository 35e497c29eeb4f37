"""The capacity model's arithmetic, and docs/scale.md generated from it (never edited by hand)."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace

import pytest

from functions.domain.events import FLEET_SHARDS
from tests.pipeline.conftest import REPO


def _module():
    spec = importlib.util.spec_from_file_location("capacity", REPO / "docs" / "capacity.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


cap = _module()
TARGET = cap.Fleet(100_000)


def test_100000_devices_by_hand():
    avg, peak = cap.load(TARGET, peak=False), cap.load(TARGET, peak=True)
    assert avg.events_per_s == pytest.approx(100_000 / 60)  # one a minute
    assert peak.events_per_s == pytest.approx(10 * 100_000 / 60)
    # events + a heartbeat a minute + a model check an hour + a sample window a day
    rps = 100_000 * (10 / 60 + 1 / 60 + 1 / 3600 + 1 / 86_400)
    assert peak.api_rps == pytest.approx(rps)
    assert peak.lambda_concurrency == pytest.approx(rps * cap.LAMBDA_MS / 1000)
    assert peak.table_wru == pytest.approx(peak.events_per_s * 4)  # transactional pair
    assert peak.shard_wru == pytest.approx(peak.events_per_s / FLEET_SHARDS * cap.SHARD_SKEW)


def test_the_sharded_index_holds_the_target_and_unsharded_it_would_not():
    peak = cap.load(TARGET, peak=True)
    assert peak.shard_wru <= 0.5 * cap.DYNAMODB_PARTITION_WRU  # a fraction of the limit
    assert peak.events_per_s > cap.DYNAMODB_PARTITION_WRU  # one partition a day would throttle


def test_what_breaks_first_is_the_smallest_fleet_at_a_limit():
    name, devices = cap.breaks_first(TARGET)
    assert devices == min(cap.devices_at_limit(n, TARGET) for n in cap.LIMITS)
    limit, measure = cap.LIMITS[name]
    at = cap.load(replace(TARGET, devices=devices), peak=True)
    assert measure(at) <= limit < measure(cap.load(replace(TARGET, devices=devices + 1), True))
    assert name.startswith("API Gateway")  # one event a minute, 10x bursts, no batching
    batched = replace(TARGET, events_per_request=20)
    assert cap.devices_at_limit(name, batched) > 3 * devices  # batching moves it


def test_cost_is_linear_in_devices_and_adds_up():
    one, ten = cap.monthly_cost(cap.Fleet(1_000)), cap.monthly_cost(cap.Fleet(10_000))
    for item in ("api", "lambda_", "dynamodb_writes", "dynamodb_storage", "logs"):
        assert getattr(ten, item) == pytest.approx(10 * getattr(one, item)), item
    requests = cap.load(cap.Fleet(1_000), False).api_rps * 30 * 86_400
    assert one.api == pytest.approx(requests / 1e6 * 3.50)


def test_collects_threshold_is_an_hour_of_query_pages():
    hour_of_pages = cap.COLLECT_BUDGET_S * cap.QUERY_MB_S * 1e6 / cap.EVENT_BYTES
    assert int(hour_of_pages) == cap.EXPORT_THRESHOLD_EVENTS


def test_collect_path_switches_at_the_threshold():
    per_day = cap.events_in_range(cap.Fleet(1_000), 1)
    assert per_day == 1_000 * 1440
    last_query_day = cap.EXPORT_THRESHOLD_EVENTS // per_day
    assert cap.collect_path(cap.Fleet(1_000), int(last_query_day)) == "query"
    assert cap.collect_path(cap.Fleet(1_000), int(last_query_day) + 1) == "export"
    assert cap.collect_path(TARGET, 1) == "export"


def test_scale_md_is_what_the_model_says():
    assert (REPO / "docs" / "scale.md").read_text() == cap.render(), (
        "docs/scale.md is stale: .venv/bin/python docs/capacity.py --write"
    )


def test_readme_links_the_scale_page_and_names_the_docs_folder():
    readme = (REPO / "README.md").read_text()
    assert "(docs/scale.md)" in readme
    assert "| `docs/` |" in readme
