"""Pydantic v2 models of every request and response: the source of the OpenAPI document."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from functions.storage_layout import DEVICE_ID_PATTERN

Gesture = Literal["circle", "x", "y"]
Signal = Literal["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]
TimeMs = Annotated[int, Field(ge=0, le=9_999_999_999_999, description="ms since the epoch")]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
Version = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
Unit = Annotated[float, Field(ge=0, le=1)]
MAX_BATCH = 100


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


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


class AxisRms(Strict):
    x: Annotated[float, Field(ge=0, le=1e6)]
    y: Annotated[float, Field(ge=0, le=1e6)]
    z: Annotated[float, Field(ge=0, le=1e6)]


class Telemetry(Strict):
    device_id: DeviceId | None = Field(None, description="optional; must be the key's device")
    t_ms: TimeMs
    acc_rms: AxisRms
    free_heap: Count
    uptime_s: Count
    model_version: Version
    queue_len: Count
    dropped: Count


class TelemetryAccepted(BaseModel):
    device_id: str
    t_ms: int


class SampleWindow(Strict):
    device_id: DeviceId | None = Field(None, description="optional; must be the key's device")
    t_ms: TimeMs = Field(description="device time of the first row")
    rate_hz: Annotated[int, Field(ge=1, le=1000)]
    units: Literal["raw", "si"] = "raw"
    signals: Annotated[list[Signal], Field(min_length=1, max_length=6)]
    values: Annotated[
        list[Annotated[list[float], Field(min_length=1, max_length=6)]],
        Field(min_length=1, max_length=2000, description="rows of one value per signal"),
    ]
    label: Gesture | Literal["idle"] | None = None
    reason: Literal["detection", "near_miss", "manual"] | None = None
    model_version: Version | None = None

    @field_validator("signals")
    @classmethod
    def unique_signals(cls, signals: list[str]) -> list[str]:
        if len(set(signals)) != len(signals):
            raise ValueError("signals must be unique")
        return signals

    @field_validator("values")
    @classmethod
    def rows_match_signals(cls, values: list[list[float]], info) -> list[list[float]]:
        width = len(info.data.get("signals") or [])
        for index, row in enumerate(values):
            if width and len(row) != width:
                raise ValueError(f"row {index} has {len(row)} values, signals has {width}")
        return values


class SampleStored(BaseModel):
    device_id: str
    key: str
    rows: int


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


class ModelFile(BaseModel):
    name: str
    sha256: str | None = None
    bytes: int | None = None
    url: str = Field(description="presigned S3 GET URL, valid for a few minutes")
    content_b64: str | None = Field(None, description="the file itself when inline=true")


class ModelRelease(BaseModel):
    version: str
    manifest: dict
    file: ModelFile


class Health(BaseModel):
    status: Literal["ok"]


class ErrorBody(BaseModel):
    error: str
    message: str
    field: str | None = None


class Query(BaseModel):
    """Query strings arrive as text: lax parsing ("5" -> 5), unknown parameters ignored."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class EventsQuery(Query):
    device_id: DeviceId | None = Field(None, description="default: the key's own device")
    from_ms: TimeMs | None = Field(None, alias="from", description="oldest t_ms (inclusive)")
    to_ms: TimeMs | None = Field(None, alias="to", description="newest t_ms (inclusive)")
    limit: Annotated[int, Field(ge=1, le=500)] = 50
    cursor: Annotated[str, Field(max_length=200)] | None = Field(
        None, description="next_cursor of the previous page"
    )


class ModelQuery(Query):
    file: Literal["model.mpy", "model.py"] = "model.mpy"
    inline: bool = Field(False, description="also return the file, base64-encoded")
