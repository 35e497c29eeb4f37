"""POST /samples."""

from typing import Annotated, Literal

from pydantic import BaseModel, Field, field_validator

from functions.models.common import (
    DeviceId,
    Label,
    Signal,
    Strict,
    TimeMs,
    Version,
)


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
    label: Label | None = None
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
