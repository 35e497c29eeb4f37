"""Gesture events: time checks, the stored record, and its keys."""

from __future__ import annotations

import re
import zlib
from datetime import datetime, timedelta

from functions.exceptions import InvalidInput
from functions.models.common import ItemError
from functions.models.events import Duplicate, EventBatch, StoredEvent
from functions.storage_layout import DEVICE_ID_PATTERN, utc_day

DAY_MS = 86_400_000


# The one home of the events table's key formats: every key, key range and key check is made
# here (tests/test_one_source.py fails on a copy elsewhere). Fixed-width decimal fields make
# string order time order; the API's bounds on t_ms and seq are these widths.
T_DIGITS, SEQ_DIGITS = 13, 10
MAX_T_MS, MAX_SEQ = 10**T_DIGITS - 1, 10**SEQ_DIGITS - 1
_T, _SEQ = rf"(\d{{{T_DIGITS}}})", rf"(\d{{{SEQ_DIGITS}}})"
_EVENT_KEY = re.compile(rf"{_T}#{_SEQ}", re.ASCII)
_FLEET_KEY = re.compile(rf"{_T}#({DEVICE_ID_PATTERN.strip('^$')})#{_SEQ}", re.ASCII)
_AFTER_EVERY_DEVICE_ID = "~"  # sorts after every character a device id may hold


def event_key(t_ms: int, seq: int) -> str:
    """Sort key within a device: device time, then sequence number. It is the idempotency key
    only of events sent without an id (firmware before event ids)."""
    return f"{t_ms:0{T_DIGITS}d}#{seq:0{SEQ_DIGITS}d}"


def id_key(event_id: str) -> str:
    """Idempotency key of an event with an id: its marker item in the device's partition (sorts
    after every event_key, so time-range queries never see it). No time in it: a retry whose
    t_ms changed (a clock fixed meanwhile) still maps to the stored event."""
    return f"id#{event_id}"


def fleet_key(t_ms: int, device_id: str, seq: int) -> str:
    """Sort key within a day's shard of the fleet index (unique over all shards of the day)."""
    return f"{t_ms:0{T_DIGITS}d}#{device_id}#{seq:0{SEQ_DIGITS}d}"


def device_key_range(from_ms: int, to_ms: int) -> tuple[str, str]:
    """(low, high) event_key bounds, both inclusive (a Query's BETWEEN), of the events with
    from_ms <= t_ms <= to_ms; id markers sort after every event_key, so never inside."""
    return event_key(from_ms, 0), event_key(to_ms, MAX_SEQ)


def fleet_key_range(from_ms: int = 0, to_ms: int = MAX_T_MS) -> tuple[str, str]:
    """(low, high) fleet_key bounds, both inclusive, of the events with from_ms <= t_ms <=
    to_ms of every device; by default every event of the partition."""
    return f"{from_ms:0{T_DIGITS}d}#", f"{to_ms:0{T_DIGITS}d}#{_AFTER_EVERY_DEVICE_ID}"


def parse_event_key(key: str) -> tuple[int, int]:
    """(t_ms, seq) of an event_key; ValueError for anything event_key cannot have made."""
    match = _EVENT_KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"not an event key: {key!r}")
    return int(match.group(1)), int(match.group(2))


def parse_fleet_key(key: str) -> tuple[int, str, int]:
    """(t_ms, device_id, seq) of a fleet_key; ValueError for anything fleet_key cannot have
    made."""
    match = _FLEET_KEY.fullmatch(key)
    if match is None:
        raise ValueError(f"not a fleet key: {key!r}")
    return int(match.group(1)), match.group(2), int(match.group(3))


# Shards of each day of the fleet index. At 100,000 devices sending one event a minute in
# bursts of 10x, 64 keep each index partition near a quarter of DynamoDB's 1,000 writes/s
# (docs/scale.md, computed by docs/capacity.py). Readers fan out over all of them, so
# changing it re-partitions the index: written events stay under the old count.
FLEET_SHARDS = 64


def fleet_shard(device_id: str) -> int:
    """The shard a device's events go to: CRC-32 of its id (stable in every process)."""
    return zlib.crc32(device_id.encode()) % FLEET_SHARDS


def fleet_partition(day: str, shard: int) -> str:
    """Partition key of the fleet index: "<YYYY-MM-DD>#<shard:02d>"."""
    return f"{day}#{shard:02d}"


def check_time(t_ms: int, now_ms: int, max_age_days: int, max_skew_s: int, field: str) -> None:
    """Reject a device time too far in the past or the future."""
    oldest = now_ms - max_age_days * DAY_MS
    newest = now_ms + max_skew_s * 1000
    if not oldest <= t_ms <= newest:
        raise InvalidInput(
            f"t_ms {t_ms} is outside [{oldest}, {newest}] "
            f"(at most {max_age_days} days old, {max_skew_s} s ahead)",
            field=field,
        )


def check_times(batch: EventBatch, now_ms: int, max_age_days: int, max_skew_s: int) -> None:
    """Every event with a t_ms must pass check_time; one InvalidInput names every bad event."""
    bad = []
    for index, event in enumerate(batch.events):
        if event.t_ms is None:
            continue  # clock "unresolved": stored at the time received
        field = f"events[{index}].t_ms"
        try:
            check_time(event.t_ms, now_ms, max_age_days, max_skew_s, field)
        except InvalidInput as error:
            bad.append(ItemError(index=index, field=field, message=error.message))
    if bad:
        raise InvalidInput(bad[0].message, field=bad[0].field, errors=bad)


def to_records(
    device_id: str, batch: EventBatch, received_at: datetime, retention_days: int
) -> list[dict]:
    """One storable record per event, with its table and fleet-index keys; an event with an id
    also carries `id_key`, the key the store must find free (its idempotency key)."""
    expires_at = int((received_at + timedelta(days=retention_days)).timestamp())
    received_ms = int(received_at.timestamp() * 1000)
    records = []
    for event in batch.events:
        t_ms = received_ms if event.t_ms is None else event.t_ms
        record = {
            "device_id": device_id,
            "event_key": event_key(t_ms, event.seq),
            "day": utc_day(t_ms),
            "fleet_part": fleet_partition(utc_day(t_ms), fleet_shard(device_id)),
            "fleet_key": fleet_key(t_ms, device_id, event.seq),
            "seq": event.seq,
            "gesture": event.gesture,
            "t_ms": t_ms,
            "clock": event.clock,
            "score": event.score,
            "model_version": event.model_version,
            "received_at": received_at.isoformat(),
            "expires_at": expires_at,
        }
        if event.id is not None:
            record |= {"id": event.id, "id_key": id_key(event.id)}
        if event.boot_ms is not None:
            record["boot_ms"] = event.boot_ms
        records.append(record)
    return records


def to_stored_event(record: dict) -> StoredEvent:
    """The public view of a stored record."""
    return StoredEvent.model_validate(
        {name: record[name] for name in StoredEvent.model_fields if name in record}, strict=False
    )


# What makes two copies of an event the same event: everything the device said about it. The
# time is compared only when the device knew it: an unresolved event's t_ms is the time
# received, which a resend changes.
_CONTENT = ("seq", "id", "gesture", "clock", "boot_ms", "score", "model_version")


def same_content(record: dict, stored: dict | None) -> bool:
    """Whether a resent record says what the stored copy says (False when none is left: its
    retention passed before its id marker's)."""
    if stored is None:
        return False
    fields = _CONTENT if record["clock"] == "unresolved" else (*_CONTENT, "t_ms")
    return all(_value(record.get(name)) == _value(stored.get(name)) for name in fields)


def _value(value):
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def duplicates(resent: list[dict], stored: list[dict | None]) -> list[Duplicate]:
    """The answer's account of the records already stored, with whether each says the same as
    its stored copy (the stored copy is kept either way)."""
    return [
        Duplicate(
            seq=record["seq"],
            id=record.get("id"),
            content="expired"
            if copy is None
            else "same"
            if same_content(record, copy)
            else "different",
        )
        for record, copy in zip(resent, stored, strict=True)
    ]
