"""The fleet's capacity model: devices x events per minute -> requests, concurrency, writes,
objects and money, against AWS's published limits. docs/scale.md is generated from it:

    .venv/bin/python docs/capacity.py          # print docs/scale.md
    .venv/bin/python docs/capacity.py --write  # rewrite it (a test checks it is current)

Facts of the code are imported (FLEET_SHARDS, the heartbeat and OTA periods, the event batch
limit); facts about AWS are the published quotas and list prices below, with their source.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from functions.domain.events import FLEET_SHARDS  # noqa: E402
from pipeline.jobs import collect  # noqa: E402

# -- AWS published limits (default quotas, per account and Region) --------------------------
API_GATEWAY_RPS = 10_000  # API Gateway quotas: throttle per account, per Region (burst 5,000)
LAMBDA_CONCURRENCY = 1_000  # Lambda quotas: concurrent executions (can be raised)
DYNAMODB_PARTITION_WRU = 1_000  # DynamoDB: each partition, writes/s (1 KB units)
DYNAMODB_TABLE_WRU = 40_000  # DynamoDB on-demand: table-level write throughput quota
S3_PREFIX_PUTS = 3_500  # S3: PUT/COPY/POST/DELETE per second per partitioned prefix

# -- list prices (USD, us-east-1) ------------------------------------------------------------
PRICE_API_PER_MILLION = 3.50  # REST API requests, first 333 million a month
PRICE_LAMBDA_PER_MILLION = 0.20  # requests
PRICE_LAMBDA_GB_S = 0.0000133334  # arm64 duration
PRICE_DDB_WRITE_PER_MILLION = 0.625  # on-demand write request units
PRICE_DDB_GB_MONTH = 0.25  # table storage (indexes count again)
PRICE_S3_PUT_PER_THOUSAND = 0.005
PRICE_LOGS_GB = 0.50  # CloudWatch Logs ingestion

# -- the stack (facts of this repository, or measured assumptions stated as such) ------------
HEARTBEATS_PER_MIN = 1.0  # firmware config telemetry_period_s = 60
MODEL_CHECKS_PER_HOUR = 1.0  # firmware config ota_period_s = 3600
LAMBDA_MS = 60.0  # assumed mean handler time, warm (the API benchmark measures ~10 ms locally)
LAMBDA_GB = 0.25  # serverless.yml provider memorySize 256
EVENT_BYTES = 400  # stored event item (keys, gesture, times, score, version)
HEARTBEAT_BYTES = 300
LOG_BYTES_PER_REQUEST = 1_000  # Powertools structured log line per invocation
EVENT_WRU = 4  # TransactWriteItems: event + id marker, 2 units each (transactional)
INDEX_WRU = 1  # the fleet index's copy of the event
HEARTBEAT_WRU = 1
SHARD_SKEW = 1.05  # the busiest shard's share over the mean (CRC-32 spread, 100k devices)
EVENTS_RETENTION_DAYS = 365  # serverless.yml params eventsRetentionDays
TELEMETRY_RETENTION_DAYS = 30
DAYS_PER_MONTH = 30
RUN_OBJECTS_PER_DAY = 60  # one pipeline run a day: raw layer, model folder, layers, reports

# -- collect: Query pages or a DynamoDB export -----------------------------------------------
QUERY_MB_S = 2.5  # assumed: one job reading Query pages (1 MB each) of the merged shards
COLLECT_BUDGET_S = 3_600  # an hour of reading, well inside the CodeBuild timeout
EXPORT_THRESHOLD_EVENTS = collect.EXPORT_THRESHOLD_EVENTS  # = budget x rate / event bytes


@dataclass(frozen=True)
class Fleet:
    devices: int
    events_per_min: float = 1.0
    burst: float = 10.0  # events come this many times faster at the peak
    events_per_request: float = 1.0  # a device sends each event as it happens
    windows_per_day: float = 1.0  # sample windows a device uploads for labelling (POST /samples)


@dataclass(frozen=True)
class Load:
    api_rps: float
    lambda_concurrency: float
    events_per_s: float
    table_wru: float  # events table, per second
    shard_wru: float  # the busiest fleet index partition, per second
    device_partition_wru: float  # one device's partition of the events table
    s3_puts_per_s: float
    s3_objects_per_day: float


def load(fleet: Fleet, peak: bool) -> Load:
    factor = fleet.burst if peak else 1.0
    events_per_s = fleet.devices * fleet.events_per_min * factor / 60
    windows_per_s = fleet.devices * fleet.windows_per_day / 86_400
    other_rps = fleet.devices * (HEARTBEATS_PER_MIN / 60 + MODEL_CHECKS_PER_HOUR / 3600)
    other_rps += windows_per_s
    api_rps = events_per_s / fleet.events_per_request + other_rps
    heartbeat_wru = fleet.devices * HEARTBEATS_PER_MIN / 60 * HEARTBEAT_WRU
    return Load(
        api_rps=api_rps,
        lambda_concurrency=api_rps * LAMBDA_MS / 1000,
        events_per_s=events_per_s,
        table_wru=events_per_s * EVENT_WRU,
        shard_wru=events_per_s * INDEX_WRU / FLEET_SHARDS * SHARD_SKEW,
        device_partition_wru=fleet.events_per_min * factor / 60 * EVENT_WRU + heartbeat_wru * 0,
        s3_puts_per_s=windows_per_s * factor,
        s3_objects_per_day=windows_per_s * 86_400 + RUN_OBJECTS_PER_DAY,
    )


LIMITS = {
    "API Gateway requests/s (account)": (API_GATEWAY_RPS, lambda x: x.api_rps),
    "Lambda concurrency (account)": (LAMBDA_CONCURRENCY, lambda x: x.lambda_concurrency),
    "DynamoDB events table writes/s": (DYNAMODB_TABLE_WRU, lambda x: x.table_wru),
    "DynamoDB fleet index partition writes/s": (DYNAMODB_PARTITION_WRU, lambda x: x.shard_wru),
    "S3 PUT/s (raw/samples/ prefix)": (S3_PREFIX_PUTS, lambda x: x.s3_puts_per_s),
}


def devices_at_limit(name: str, fleet: Fleet) -> int:
    """The fleet size at which the peak load reaches limit `name` (load is linear in devices)."""
    limit, measure = LIMITS[name]
    per_device = measure(load(replace(fleet, devices=1), peak=True))
    return math.floor(limit / per_device)


def breaks_first(fleet: Fleet) -> tuple[str, int]:
    return min(((n, devices_at_limit(n, fleet)) for n in LIMITS), key=lambda item: item[1])


@dataclass(frozen=True)
class MonthlyCost:
    api: float
    lambda_: float
    dynamodb_writes: float
    dynamodb_storage: float
    logs: float
    s3_puts: float

    @property
    def total(self) -> float:
        return (
            self.api
            + self.lambda_
            + self.dynamodb_writes
            + self.dynamodb_storage
            + self.logs
            + self.s3_puts
        )


def monthly_cost(fleet: Fleet) -> MonthlyCost:
    """Average month (no burst) at steady state (retention windows full)."""
    avg = load(fleet, peak=False)
    seconds = DAYS_PER_MONTH * 86_400
    requests = avg.api_rps * seconds
    heartbeats = fleet.devices * HEARTBEATS_PER_MIN / 60 * seconds
    writes = avg.events_per_s * seconds * (EVENT_WRU + INDEX_WRU) + heartbeats * HEARTBEAT_WRU
    events_per_day = avg.events_per_s * 86_400
    stored = events_per_day * EVENTS_RETENTION_DAYS * EVENT_BYTES * 2  # table + fleet index
    stored += heartbeats / DAYS_PER_MONTH * TELEMETRY_RETENTION_DAYS * HEARTBEAT_BYTES
    return MonthlyCost(
        api=requests / 1e6 * PRICE_API_PER_MILLION,
        lambda_=requests / 1e6 * PRICE_LAMBDA_PER_MILLION
        + requests * LAMBDA_MS / 1000 * LAMBDA_GB * PRICE_LAMBDA_GB_S,
        dynamodb_writes=writes / 1e6 * PRICE_DDB_WRITE_PER_MILLION,
        dynamodb_storage=stored / 2**30 * PRICE_DDB_GB_MONTH,
        logs=requests * LOG_BYTES_PER_REQUEST / 2**30 * PRICE_LOGS_GB,
        s3_puts=avg.s3_objects_per_day * DAYS_PER_MONTH / 1000 * PRICE_S3_PUT_PER_THOUSAND,
    )


def events_in_range(fleet: Fleet, days: int) -> float:
    return fleet.devices * fleet.events_per_min * 1440 * days


def collect_path(fleet: Fleet, days: int) -> str:
    """ "query" while the range holds at most EXPORT_THRESHOLD_EVENTS events, else "export"."""
    return "query" if events_in_range(fleet, days) <= EXPORT_THRESHOLD_EVENTS else "export"


# -- the document --------------------------------------------------------------------------


HEADER = (
    "| devices | API requests/s (avg / peak) | Lambda concurrency | events table writes/s "
    "| busiest fleet index partition writes/s | S3 objects/day |"
)


def _n(x: float) -> str:
    return f"{x:,.0f}" if x >= 10 else f"{x:,.2f}"


def render() -> str:
    target = Fleet(100_000)
    fleets = [Fleet(1_000), Fleet(10_000), Fleet(100_000)]
    rows = []
    for f in fleets:
        a, p = load(f, False), load(f, True)
        rows.append(
            f"| {f.devices:,} | {_n(a.api_rps)} / {_n(p.api_rps)} "
            f"| {_n(a.lambda_concurrency)} / {_n(p.lambda_concurrency)} "
            f"| {_n(a.table_wru)} / {_n(p.table_wru)} "
            f"| {_n(a.shard_wru)} / {_n(p.shard_wru)} | {_n(a.s3_objects_per_day)} |"
        )
    peak = load(target, True)
    limits = "\n".join(
        f"| {name} | {limit:,} | {_n(measure(peak))} | {measure(peak) / limit:.0%} "
        f"| {devices_at_limit(name, target):,} |"
        for name, (limit, measure) in LIMITS.items()
    )
    first, at = breaks_first(target)
    cost = monthly_cost(Fleet(1_000))
    per_day_100k = events_in_range(target, 1)
    days_at_1k = EXPORT_THRESHOLD_EVENTS / events_in_range(Fleet(1_000), 1)
    return f"""# Scale: what 100,000 devices cost and what breaks first

Generated by `docs/capacity.py` (`.venv/bin/python docs/capacity.py --write`); a test checks
that this page matches the code. Every number below comes from that module: change an
assumption there, not here.

## The model

A device sends each gesture event as it happens (`POST /events`, {target.events_per_min:g} a
minute on average, {target.burst:g}x that at the peak), a heartbeat every
{60 / HEARTBEATS_PER_MIN:g} s (`POST /telemetry`) and asks for its model every
{60 / MODEL_CHECKS_PER_HOUR:g} minutes (`GET /model`). Each request is one Lambda invocation
of about {LAMBDA_MS:g} ms (assumed, warm). An event is one `TransactWriteItems` of the event
and its id marker ({EVENT_WRU} write units: transactions cost double) plus its copy in the fleet
index ({INDEX_WRU} unit) in partition `<day>#<shard>`, shard = CRC-32(device id) mod
{FLEET_SHARDS} (`functions/domain/events.py`); the busiest shard is taken as {SHARD_SKEW:g}x
the mean. Events are not S3 objects: S3 takes the sample windows devices upload for labelling
({target.windows_per_day:g} a device a day assumed, one object each, under `raw/samples/`) and
one run folder a pipeline run (about {RUN_OBJECTS_PER_DAY} objects).

{HEADER}
| ---: | ---: | ---: | ---: | ---: | ---: |
{chr(10).join(rows)}

## Against AWS's published limits, at 100,000 devices (peak)

| limit (default quota) | limit | load at peak | share | devices at which the peak reaches it |
| --- | ---: | ---: | ---: | ---: |
{limits}

Sources: API Gateway quotas (10,000 requests/s per account and Region, burst 5,000), Lambda
quotas (1,000 concurrent executions per Region), DynamoDB quotas (on-demand tables: 40,000
write request units per table; every partition: 1,000 write units/s and 3,000 read units/s),
S3 performance guidelines (3,500 PUT and 5,500 GET per second per partitioned prefix).

**What breaks first: {first}, at about {at:,} devices** sending {target.events_per_min:g} event a
minute with {target.burst:g}x bursts; then the events table's write quota
({devices_at_limit("DynamoDB events table writes/s", target):,}) and Lambda concurrency
({devices_at_limit("Lambda concurrency (account)", target):,}). These three are default quotas
AWS raises on request (Service Quotas), so the plan for growth is to raise them before the
fleet passes about 50,000 devices, and to batch events on the device (`events_per_request` > 1
divides the request and Lambda load). A partition's 1,000 writes/s is not a quota: it is what
sharding is for. The fleet index itself is no
longer the ceiling: with {FLEET_SHARDS} shards its busiest partition takes
{peak.shard_wru / DYNAMODB_PARTITION_WRU:.0%} of a partition's 1,000 writes/s at the
100,000-device peak (unsharded it would be
{peak.events_per_s * INDEX_WRU / DYNAMODB_PARTITION_WRU:.0f}x over the limit, a ceiling of
{math.floor(DYNAMODB_PARTITION_WRU / (peak.events_per_s / target.devices)):,} devices however
the rest scales). One device's own partition of the events table takes
{peak.device_partition_wru:.2f} writes/s.

## Money: per 1,000 devices per month

At {Fleet(1_000).events_per_min:g} event a minute, steady state ({EVENTS_RETENTION_DAYS} days of
events kept, {TELEMETRY_RETENTION_DAYS} of heartbeats), list prices in us-east-1:

| item | USD / month |
| --- | ---: |
| API Gateway (REST, ${PRICE_API_PER_MILLION:.2f} per million) | {cost.api:,.2f} |
| Lambda (requests + arm64 GB-s) | {cost.lambda_:,.2f} |
| DynamoDB writes (on-demand, ${PRICE_DDB_WRITE_PER_MILLION} per million) \
| {cost.dynamodb_writes:,.2f} |
| DynamoDB storage (table + fleet index) | {cost.dynamodb_storage:,.2f} |
| CloudWatch Logs ({LOG_BYTES_PER_REQUEST:,} bytes a request) | {cost.logs:,.2f} |
| **total** | **{cost.total:,.2f}** |

Costs are linear in devices: 100,000 devices cost {100 * cost.total:,.0f} USD a month. API
Gateway is the largest line; an HTTP API (about a third of the price) or device-side batching
would cut it.

## The collect job at this scale: Query pages or a DynamoDB export

The collect job reads the range's events through the fleet reader (`EventsTable.fleet_day`:
each day's {FLEET_SHARDS} shards, merged in time order). At about {QUERY_MB_S:g} MB/s of Query
pages (assumed) it reads {EXPORT_THRESHOLD_EVENTS:,} events of {EVENT_BYTES} bytes in
{COLLECT_BUDGET_S / 3600:g} h, the budget it has. **Threshold: a range of more than
{EXPORT_THRESHOLD_EVENTS:,} events is read from a DynamoDB export to S3**
(`ExportTableToPointInTime`, the table has point-in-time recovery on), which costs no read
capacity and runs outside the
job; a smaller one from Query pages. 100,000 devices make {per_day_100k:,.0f} events a day, so
at that size every run takes the export path; 1,000 devices stay on Query pages for ranges up
to {days_at_1k:,.0f} days. A full export is priced by the table's size (0.10 USD a GB in
us-east-1): at 100,000 devices and {EVENTS_RETENTION_DAYS} days kept that is
{per_day_100k * EVENTS_RETENTION_DAYS * EVENT_BYTES / 2**30:,.0f} GB, about
{per_day_100k * EVENTS_RETENTION_DAYS * EVENT_BYTES / 2**30 * 0.10:,.0f} USD an export, so
runs at that size should be few (or the events retention shorter). The job decides from the table's
item count (`DescribeTable`, updated about every six hours) scaled to the range; both paths
write the same `events.jsonl` (`pipeline/jobs/collect.py`).

## Changing the shard count

`FLEET_SHARDS` is read by every writer and reader. Changing it re-partitions new events only;
a reader must then fan out over the old count for older days (or the index be rebuilt). The
index's key change from `day` to `fleet_part` is a new index (`fleet-by-day-shard`): on a
deployed stack, add the new index in one deploy and drop the old one in the next (DynamoDB
creates or deletes one index per table update).
"""


def main(argv: list[str]) -> int:
    text = render()
    path = REPO / "docs" / "scale.md"
    if "--write" in argv:
        path.write_text(text)
    else:
        print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
