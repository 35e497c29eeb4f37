"""GET /devices, GET /events/counts and GET /models: the dashboard's read views."""

from pydantic import BaseModel, Field

from functions.models.common import DeviceId, Query, TimeMs


class AxisRmsReading(BaseModel):
    x: float
    y: float
    z: float


class Health(BaseModel):
    """A device's newest heartbeat; fields newer firmware adds are passed through when present."""

    t_ms: int = Field(description="device time of the heartbeat")
    received_at: str | None = None
    acc_rms: AxisRmsReading | None = None
    free_heap: int | None = None
    uptime_s: int | None = None
    queue_len: int | None = None
    dropped: int | None = None
    auth_failures: int | None = None
    dead_letters: int | None = None
    model_errors: int | None = None
    model_version: str | None = None
    firmware_version: str | None = None


class DevicesQuery(Query):
    include_revoked: bool = Field(
        False, description="also list devices whose every key is revoked (default: left out)"
    )


class DeviceStatus(BaseModel):
    device_id: str
    keys: int = Field(description="API keys registered to this device")
    revoked: bool = Field(description="every key of this device is revoked: it can no longer send")
    health: Health | None = Field(None, description="newest heartbeat; null before the first")


class DeviceList(BaseModel):
    items: list[DeviceStatus]


class CountsQuery(Query):
    from_ms: TimeMs | None = Field(None, alias="from", description="oldest t_ms (inclusive)")
    to_ms: TimeMs | None = Field(None, alias="to", description="newest t_ms (inclusive)")
    device_id: DeviceId | None = Field(None, description="only this device (default: the fleet)")


class Series(BaseModel):
    device_id: str
    gesture: str
    total: int
    counts: list[int] = Field(description="events per bucket, aligned with `buckets`")


class EventCounts(BaseModel):
    from_ms: int
    to_ms: int
    bucket_ms: int
    buckets: list[int] = Field(description="start time of each bucket (ms since the epoch)")
    series: list[Series] = Field(description="one per (device, gesture) seen in the range")
    events: int = Field(description="events counted")
    complete: bool = Field(
        description="false when the range held more events than one answer counts"
    )


class ModelVersion(BaseModel):
    version: str
    current: bool
    created: str | None = Field(None, description="when training made it (manifest)")
    published_at: str | None = Field(None, description="when it was copied to models/")
    run_id: str | None = Field(None, description="the pipeline run that promoted it")
    reason: str | None = Field(None, description="why it was promoted; null without a run record")
    score: float | None = None


class PipelineRun(BaseModel):
    run_id: str
    time: str | None = Field(None, description="newest time the run's records carry")
    collected_events: int | None = None
    collected_windows: int | None = None
    candidate_version: str | None = None
    candidate_score: float | None = None
    promoted: bool | None = Field(None, description="null when the run did not retrain")
    reason: str | None = None


class ModelHistory(BaseModel):
    current: str | None
    versions: list[ModelVersion] = Field(description="newest first")
    runs: list[PipelineRun] = Field(description="newest first, at most `max_runs`")
