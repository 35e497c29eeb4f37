"""Settings for every handler, read once from the environment (names set in infra/functions.yml)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

LOCAL_PREFIX = "gesture-stack-local"


@dataclass(frozen=True)
class Settings:
    events_table: str
    telemetry_table: str
    devices_table: str
    data_bucket: str
    region: str
    events_retention_days: int = 365
    telemetry_retention_days: int = 30
    max_body_bytes: int = 256 * 1024
    max_event_age_days: int = 30
    max_clock_skew_s: int = 300
    fleet_max_range_days: int = 7
    max_counted_events: int = 20_000  # GET /events/counts reads at most this many per answer
    max_listed_runs: int = 20
    presign_ttl_s: int = 300

    @classmethod
    def from_env(cls, env: dict[str, str] | os._Environ = os.environ) -> Settings:
        def number(name: str, default: int) -> int:
            return int(env.get(name, default))

        return cls(
            events_table=env.get("EVENTS_TABLE", f"{LOCAL_PREFIX}-events"),
            telemetry_table=env.get("TELEMETRY_TABLE", f"{LOCAL_PREFIX}-telemetry"),
            devices_table=env.get("DEVICES_TABLE", f"{LOCAL_PREFIX}-devices"),
            data_bucket=env.get("DATA_BUCKET", f"{LOCAL_PREFIX}-data"),
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", "eu-west-1")),
            events_retention_days=number("EVENTS_RETENTION_DAYS", 365),
            telemetry_retention_days=number("TELEMETRY_RETENTION_DAYS", 30),
            max_body_bytes=number("MAX_BODY_BYTES", 256 * 1024),
            max_event_age_days=number("MAX_EVENT_AGE_DAYS", 30),
            max_clock_skew_s=number("MAX_CLOCK_SKEW_S", 300),
        )


@cache
def get_settings() -> Settings:
    """The process-wide settings (the environment is read on first use only)."""
    return Settings.from_env()
