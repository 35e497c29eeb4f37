"""GET /model: the promoted model's manifest and file, with ETag / If-None-Match for OTA."""

import base64

from functions import wiring
from functions.api import Reply, Request, Route, endpoint
from functions.domain import model_release
from functions.exceptions import NotFound
from functions.models.release import ModelFile, ModelQuery, ModelRelease
from functions.settings import get_settings

ROUTE = Route(
    "GET",
    "/model",
    "The current model release (ETag = version; If-None-Match -> 304)",
    ModelRelease,
    query=ModelQuery,
    responses={
        304: "If-None-Match lists the current version: unchanged, no body",
        404: "no model has been promoted yet",
    },
)


@endpoint(ROUTE)
def handler(request: Request) -> Reply:
    params: ModelQuery = request.query
    store = wiring.models()
    version = store.current_version()
    if version is None:
        raise NotFound("no model has been promoted yet")
    tag = model_release.etag(version)
    if model_release.not_modified(request.header("If-None-Match"), tag):
        return Reply(304, headers={"ETag": tag})
    manifest = store.manifest(version)
    content = store.file_bytes(version, params.file) if params.inline else None
    release = ModelRelease(
        version=version,
        manifest=manifest,
        file=ModelFile(
            name=params.file,
            url=store.presigned_url(version, params.file, get_settings().presign_ttl_s),
            content_b64=base64.b64encode(content).decode() if content is not None else None,
            **model_release.file_entry(manifest, params.file),
        ),
    )
    return Reply(200, release, headers={"ETag": tag, "Cache-Control": "no-cache"})
