"""Shared field types and bases of the API models, the error body and the health answer."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from functions.storage_layout import DEVICE_ID_PATTERN

# A gesture's name. Which names are known is data (functions/domain/vocabulary.py): the
# models published so far; training/recordings.py GESTURE_NAME is the same pattern (test pinned).
GESTURE_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
Gesture = Annotated[
    str,
    Field(
        pattern=GESTURE_NAME_PATTERN,
        description="a gesture a published model knows (the fleet's vocabulary; 400 if none)",
    ),
]
Label = Annotated[
    str,
    Field(
        pattern=GESTURE_NAME_PATTERN,
        description="a gesture (also one no model knows yet: capture for training) or idle",
    ),
]
Signal = Literal["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]
TimeMs = Annotated[int, Field(ge=0, le=9_999_999_999_999, description="ms since the epoch")]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]
Version = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")]
DeviceId = Annotated[str, Field(pattern=DEVICE_ID_PATTERN)]
Unit = Annotated[float, Field(ge=0, le=1)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class Query(BaseModel):
    """Query strings arrive as text: lax parsing ("5" -> 5), unknown parameters ignored."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class ItemError(BaseModel):
    """What is wrong with one item of a list in the body (e.g. one event of a batch)."""

    index: int = Field(description="position of the item in its list (0 = first)")
    field: str
    message: str


class ErrorBody(BaseModel):
    error: str
    message: str
    field: str | None = None
    errors: list[ItemError] | None = Field(
        None, description="one entry per bad item when the fault is in particular items"
    )


class Health(BaseModel):
    status: Literal["ok"]
