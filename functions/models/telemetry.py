"""POST /telemetry."""

from typing import Annotated

from pydantic import BaseModel, Field

from functions.models.common import (
    Count,
    DeviceId,
    Label,
    Strict,
    TimeMs,
    Version,
)


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
    firmware_version: Version | None = Field(
        None, description="the firmware the device runs (older firmware does not send it)"
    )
    queue_len: Count
    dropped: Count = Field(
        description="events the device could not keep, every reason (queue full, flash full)"
    )
    dropped_full: Count = Field(
        0, description="of `dropped`: events not queued because the flash was full"
    )
    dead_letters: Count = Field(
        0, description="events the API rejected, set aside in the dead-letter file"
    )
    dead_evicted: Count = Field(
        0, description="of `dead_letters`: removed from the bounded dead-letter file (oldest)"
    )
    auth_failures: Count = Field(0, description="401/403 answers this boot (the key was rejected)")
    model_errors: Count = Field(0, description="inference faults since boot (raised, malformed)")
    model_rejected: list[Version] = Field(
        default_factory=list,
        max_length=8,
        description="model versions the device refused after a failed trial (newest last)",
    )
    gestures: Annotated[list[Label], Field(max_length=64)] | None = Field(
        None, description="the gestures of the model the device runs (its vocabulary)"
    )


class TelemetryAccepted(BaseModel):
    device_id: str
    t_ms: int
