"""GET /model."""

from typing import Literal

from pydantic import BaseModel, Field

from functions.models.common import (
    Query,
)


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


class ModelQuery(Query):
    file: Literal["model.mpy", "model.py"] = "model.mpy"
    inline: bool = Field(False, description="also return the file, base64-encoded")
