"""POST /events and GET /events."""

from typing import Annotated

from pydantic import BaseModel, Field, field_validator

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


class GestureEvent(Strict):
    seq: Annotated[int, Field(ge=0, le=9_999_999_999, description="device sequence number")]
    gesture: Gesture
    t_ms: TimeMs
    score: Unit
    model_version: Version


class EventBatch(Strict):
    device_id: DeviceId | None = Field(None, description="optional; must be the key's device")
    events: Annotated[list[GestureEvent], Field(min_length=1, max_length=MAX_BATCH)]

    @field_validator("events")
    @classmethod
    def unique_seq(cls, events: list[GestureEvent]) -> list[GestureEvent]:
        seen: set[int] = set()
        for event in events:
            if event.seq in seen:
                raise ValueError(f"duplicate seq {event.seq} in one batch")
            seen.add(event.seq)
        return events


class EventsAccepted(BaseModel):
    device_id: str
    accepted: int = Field(description="events of the batch now stored (new or earlier retry)")
    first_seq: int
    last_seq: int


class StoredEvent(BaseModel):
    device_id: str
    seq: int
    gesture: Gesture
    t_ms: int
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
