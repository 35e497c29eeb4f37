"""Gesture events: time checks, the stored record, and its keys."""

from __future__ import annotations

from datetime import datetime, timedelta

from functions.exceptions import InvalidInput
from functions.models.events import EventBatch, StoredEvent
from functions.storage_layout import utc_day

DAY_MS = 86_400_000


def event_key(t_ms: int, seq: int) -> str:
    """Sort key within a device: device time, then sequence number (a retry maps to itself)."""
    return f"{t_ms:013d}#{seq:010d}"


def fleet_key(t_ms: int, device_id: str, seq: int) -> str:
    """Sort key within a day of the fleet index."""
    return f"{t_ms:013d}#{device_id}#{seq:010d}"


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
    """Every event of the batch must pass check_time."""
    for index, event in enumerate(batch.events):
        check_time(event.t_ms, now_ms, max_age_days, max_skew_s, f"events[{index}].t_ms")


def to_records(
    device_id: str, batch: EventBatch, received_at: datetime, retention_days: int
) -> list[dict]:
    """One storable record per event, with its table and fleet-index keys."""
    expires_at = int((received_at + timedelta(days=retention_days)).timestamp())
    return [
        {
            "device_id": device_id,
            "event_key": event_key(event.t_ms, event.seq),
            "day": utc_day(event.t_ms),
            "fleet_key": fleet_key(event.t_ms, device_id, event.seq),
            "seq": event.seq,
            "gesture": event.gesture,
            "t_ms": event.t_ms,
            "score": event.score,
            "model_version": event.model_version,
            "received_at": received_at.isoformat(),
            "expires_at": expires_at,
        }
        for event in batch.events
    ]


def to_stored_event(record: dict) -> StoredEvent:
    """The public view of a stored record."""
    return StoredEvent.model_validate(
        {name: record[name] for name in StoredEvent.model_fields}, strict=False
    )
