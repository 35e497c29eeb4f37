"""GET /model: the promoted model's manifest and file, with ETag / If-None-Match for OTA."""

import base64
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Header, Query

from functions import wiring
from functions.api import build_app, current_device, lambda_handler, tracer
from functions.domain import model_release
from functions.exceptions import NotFound
from functions.models import ModelFile, ModelRelease
from functions.settings import get_settings

app = build_app()


@app.get(
    "/model",
    responses={
        200: {
            "description": "the current release",
            "content": {"application/json": {"model": ModelRelease}},
        },
        304: {"description": "If-None-Match lists the current version: unchanged"},
        404: {"description": "no model has been promoted yet"},
    },
)
@tracer.capture_method
def get_model(
    file: Annotated[Literal["model.mpy", "model.py"], Query()] = "model.mpy",
    inline: Annotated[bool, Query(description="include the file base64-encoded")] = False,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match", max_length=512)] = None,
):
    current_device(app)
    store = wiring.models()
    version = store.current_version()
    if version is None:
        raise NotFound("no model has been promoted yet")
    tag = model_release.etag(version)
    if model_release.not_modified(if_none_match, tag):
        return Response(304, headers={"ETag": tag})
    manifest = store.manifest(version)
    release = ModelRelease(
        version=version,
        manifest=manifest,
        file=ModelFile(
            name=file,
            url=store.presigned_url(version, file, get_settings().presign_ttl_s),
            content_b64=base64.b64encode(store.file_bytes(version, file)).decode()
            if inline
            else None,
            **model_release.file_entry(manifest, file),
        ),
    )
    return Response(
        200,
        content_types.APPLICATION_JSON,
        release.model_dump_json(),
        headers={"ETag": tag, "Cache-Control": "no-cache"},
    )


handler = lambda_handler(app)
