"""The fleet index is sharded: a day's events spread over FLEET_SHARDS partitions, and every
fleet read (GET /events, the dashboard's counts, collect) fans out over them and merges them
in time order, with cursors that resume exactly where a page ended."""

from collections import Counter
from datetime import UTC, datetime

from api_helpers import SAMPLE_NOW_MS, body, sample, with_query

from functions import query, wiring
from functions.domain.events import FLEET_SHARDS, fleet_partition, fleet_shard, to_records
from functions.models import EventBatch

HOUR_MS = 3_600_000


def test_a_device_always_lands_in_the_same_shard():
    assert fleet_shard("esp32-a01") == fleet_shard("esp32-a01")
    assert fleet_shard("esp32-a01") == 4069583045 % FLEET_SHARDS  # CRC-32, not hash(): stable
    assert fleet_partition("2026-11-29", 7) == "2026-11-29#07"


def test_100000_devices_spread_evenly_over_the_shards():
    counts = Counter(fleet_shard(f"esp32-{i:06d}") for i in range(100_000))
    assert set(counts) == set(range(FLEET_SHARDS))
    mean = 100_000 / FLEET_SHARDS
    assert max(counts.values()) < 1.1 * mean and min(counts.values()) > 0.9 * mean


def put(device_id: str, times: list[int]) -> list[dict]:
    batch = EventBatch(
        events=[
            {"seq": i, "gesture": "xy"[i % 2], "t_ms": t, "score": 0.5, "model_version": "v1"}
            for i, t in enumerate(times)
        ]
    )
    records = to_records(device_id, batch, datetime.now(UTC), retention_days=30)
    wiring.events().put_new(records)
    return records


def test_fleet_pages_merge_every_shard_in_time_order_and_the_cursor_resumes_exactly(
    aws, lambda_context, dynamodb_calls
):
    devices = [f"dev-{i:03d}" for i in range(40)]
    assert len({fleet_shard(d) for d in devices}) > 20  # the events really are spread
    expected = []
    for n, device in enumerate(devices):
        # same instants for several devices (ties broken by device id), across two UTC days
        times = [SAMPLE_NOW_MS - k * 7 * HOUR_MS - (n % 3) * 1000 for k in range(1, 4)]
        expected += [(r["t_ms"], device, r["seq"]) for r in put(device, times)]
    expected.sort(reverse=True)
    seen, cursor, pages = [], None, 0
    span = {"from": SAMPLE_NOW_MS - 2 * 24 * HOUR_MS, "to": SAMPLE_NOW_MS}
    while True:
        event = with_query(sample("query/fleet"), limit=15, cursor=cursor, **span)
        response = query.handler(event, lambda_context)
        assert response["statusCode"] == 200, response["body"]
        page = body(response)
        seen += [(e["t_ms"], e["device_id"], e["seq"]) for e in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected  # newest first, nothing twice, nothing missing
    assert pages == -(-len(expected) // 15)
    assert "Scan" not in dynamodb_calls.calls


def test_the_fleet_reader_streams_a_whole_day_in_order_beyond_one_page(aws):
    day_start = SAMPLE_NOW_MS - SAMPLE_NOW_MS % (24 * HOUR_MS)
    expected = []
    for n in range(12):
        times = [day_start + HOUR_MS + k * 60_000 + n for k in range(8)]
        expected += [r["fleet_key"] for r in put(f"dev-{n:03d}", times)]
    day = datetime.fromtimestamp(day_start / 1000, UTC).date().isoformat()
    streamed = [r["fleet_key"] for r in wiring.events().fleet_day(day, "0", "9~", page=3)]
    assert streamed == sorted(expected, reverse=True)
