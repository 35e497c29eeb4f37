"""POST /events and GET /events."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from functions.models.common import (
    DeviceId,
    Gesture,
    Query,
    Strict,
    TimeMs,
    Unit,
    Version,
)

MAX_BATCH = 100
EVENT_ID_PATTERN = r"^[0-9]{1,10}-[0-9]{1,10}$"

EventId = Annotated[
    str,
    Field(
        pattern=EVENT_ID_PATTERN,
        description="'<boot>-<n>': the device's persisted boot counter and the event's number "
        "in that boot, given when the event is detected; the idempotency key (no clock in it)",
    ),
]
Clock = Literal["synced", "unresolved"]
BootMs = Annotated[int, Field(ge=0, le=9_999_999_999_999, description="ms since the boot")]


class GestureEvent(Strict):
    """An event as a device sends it. Firmware before event ids sends seq + t_ms only (still
    accepted, keyed by t_ms and seq as before)."""

    seq: Annotated[int, Field(ge=0, le=9_999_999_999, description="device sequence number")]
    id: EventId | None = None
    gesture: Gesture
    t_ms: TimeMs | None = Field(None, description="device wall time; absent when unresolved")
    clock: Clock = Field(
        "synced",
        description="'unresolved': detected before the clock was set, in a boot that ended "
        "before it was; t_ms is then absent and boot_ms says when in that boot",
    )
    boot_ms: BootMs | None = None
    score: Unit
    model_version: Version

    @model_validator(mode="after")
    def time_or_flag(self) -> "GestureEvent":
        if self.clock == "synced" and self.t_ms is None:
            raise ValueError("t_ms is required unless clock is 'unresolved'")
        if self.clock == "unresolved" and (self.t_ms is not None or self.id is None):
            raise ValueError("an event with clock 'unresolved' has an id and no t_ms")
        return self


class EventBatch(Strict):
    device_id: DeviceId | None = Field(None, description="optional; must be the key's device")
    events: Annotated[list[GestureEvent], Field(min_length=1, max_length=MAX_BATCH)]

    @field_validator("events")
    @classmethod
    def unique_seq(cls, events: list[GestureEvent]) -> list[GestureEvent]:
        seen: set = set()
        for event in events:
            for key in (event.seq, event.id):
                if key in seen:
                    raise ValueError(f"duplicate seq or id {key} in one batch")
                if key is not None:
                    seen.add(key)
        return events


class Duplicate(BaseModel):
    """An event of the batch that was stored before (a resend): not stored again."""

    seq: int
    id: str | None = Field(description="its id; null for an event sent without id")
    content: Literal["same", "different", "expired"] = Field(
        description="'different': this copy differs from the stored one (gesture, score, "
        "model_version, seq, times), and the stored copy was kept; this one was dropped. "
        "'expired': the stored copy has passed its retention, only its id is remembered"
    )


class EventsAccepted(BaseModel):
    device_id: str
    accepted: int = Field(description="events of the batch now stored (new or earlier retry)")
    first_seq: int
    last_seq: int
    ids: list[str] = Field(
        description="ids of the batch's events now stored, in batch order (empty for events "
        "sent without id); the device removes exactly these from its queue"
    )
    duplicates: list[Duplicate] = Field(
        description="the batch's events that were already stored (resent), in batch order; "
        "empty when every event is new"
    )


class StoredEvent(BaseModel):
    device_id: str
    seq: int
    id: str | None = None
    gesture: Gesture
    t_ms: int = Field(description="device time; the time received when clock is 'unresolved'")
    clock: Clock = "synced"
    boot_ms: int | None = None
    score: float
    model_version: str
    received_at: str


class EventPage(BaseModel):
    items: list[StoredEvent]
    next_cursor: str | None = None


class EventsQuery(Query):
    device_id: DeviceId | None = Field(None, description="default: the key's own device")
    from_ms: TimeMs | None = Field(None, alias="from", description="oldest t_ms (inclusive)")
    to_ms: TimeMs | None = Field(None, alias="to", description="newest t_ms (inclusive)")
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="next_cursor of the previous page"
    )
