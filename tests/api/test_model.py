"""GET /model: the promoted release, ETag / If-None-Match, inline bytes or a presigned URL."""

import base64
import hashlib
import json

import pytest
from api_helpers import body, sample, with_query
from botocore.exceptions import ClientError

from functions import model, storage_layout, wiring
from functions.adapters.data_bucket import ModelPointer, ModelStore, RunRecords
from functions.settings import get_settings
from pipeline.artifacts import get_json

CURRENT, VOCABULARY = storage_layout.CURRENT_MODEL_KEY, storage_layout.VOCABULARY_KEY


def publish(tmp_path, version, payload=b"M\x06tree"):
    folder = tmp_path / version
    folder.mkdir()
    (folder / "model.mpy").write_bytes(payload)
    (folder / "model.py").write_text("def score(x):\n    return [1.0]\n")
    files = {"model.mpy": {"sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}}
    (folder / "manifest.json").write_text(json.dumps({"version": version, "files": files}))
    return wiring.models().publish(folder)


def test_no_model_yet_is_404(aws, lambda_context):
    response = model.handler(sample("model/valid"), lambda_context)
    assert response["statusCode"] == 404
    assert body(response)["message"] == "no model has been promoted yet"


def test_no_model_yet_is_404_also_where_s3_denies_a_missing_key(
    aws, lambda_context, without_list_rights
):
    without_list_rights(wiring.s3())
    response = model.handler(sample("model/valid"), lambda_context)
    assert response["statusCode"] == 404
    assert body(response)["message"] == "no model has been promoted yet"
    assert storage_layout.CURRENT_MODEL_KEY in without_list_rights.denied  # through a 403


def _s3_answering(code: str, status: int, listed: list[str] | None = None, then_missing=False):
    """An S3 client whose GetObject answers `code` (what AWS says for a missing key depends on
    the role: 404 NoSuchKey with list rights, maybe 403 AccessDenied without), then, when
    `listed` is given, whose ListObjectsV2 lists those keys; `then_missing`: one more GetObject
    answers NoSuchKey."""
    import botocore.session
    from botocore.stub import Stubber

    client = botocore.session.get_session().create_client(
        "s3", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    stubber = Stubber(client)
    stubber.add_client_error("get_object", service_error_code=code, http_status_code=status)
    if listed is not None:
        contents = [{"Key": key} for key in listed]
        stubber.add_response("list_objects_v2", {"Contents": contents} if contents else {})
    if then_missing:
        stubber.add_client_error("get_object", service_error_code="NoSuchKey", http_status_code=404)
    stubber.activate()
    return client


RUN_REPORT = storage_layout.run_record_key("r1", storage_layout.RUN_PROMOTION_REPORT)
# Every "read this key if it exists" (functions.adapters.data_bucket.get_if_present) and its key.
READERS = {
    "current model": (lambda c: ModelStore(c, "b").current_version(), CURRENT),
    "run record": (lambda c: RunRecords(c, "b").kept(RUN_REPORT), RUN_REPORT),
    "pointer": (lambda c: ModelPointer(c, "b").read().pointer, CURRENT),
    "job's json": (lambda c: get_json(c, "b", CURRENT), CURRENT),
    "vocabulary": (lambda c: ModelStore(c, "b").vocabulary_if_changed('"e"'), VOCABULARY),
}


@pytest.mark.parametrize("reader", READERS)
def test_a_missing_key_is_an_absence_whether_s3_says_404_or_403(reader):
    read, key = READERS[reader]
    if reader == "vocabulary":  # absent: the current model's classes (none: nothing published)
        read = lambda c: ModelStore(c, "b").vocabulary()  # noqa: E731
        for answer in ([("NoSuchKey", 404, None)], [("AccessDenied", 403, [key + ".bak"])]):
            client = _s3_answering(*answer[0], then_missing=True)
            assert read(client) == frozenset()
        return
    assert read(_s3_answering("NoSuchKey", 404)) is None  # no list request (the stub is strict)
    assert read(_s3_answering("AccessDenied", 403, [])) is None
    assert read(_s3_answering("AccessDenied", 403, [key + ".bak"])) is None  # a longer key


@pytest.mark.parametrize("reader", READERS)
def test_a_403_for_a_key_that_is_there_is_an_error_not_an_absence(reader):
    """The role lacks s3:GetObject (infra/storage.yml): an error, never "no model yet"."""
    read, key = READERS[reader]
    with pytest.raises(ClientError, match="AccessDenied"):
        read(_s3_answering("AccessDenied", 403, [key]))


def test_current_release_has_manifest_url_and_etag(aws, lambda_context, tmp_path):
    publish(tmp_path, "20251124120000-0badc0de")
    response = model.handler(sample("model/valid"), lambda_context)
    assert response["statusCode"] == 200
    release = body(response)
    assert release["version"] == "20251124120000-0badc0de"
    assert release["file"]["name"] == "model.mpy"
    assert release["file"]["bytes"] == 6
    assert "models/20251124120000-0badc0de/model.mpy" in release["file"]["url"]
    assert "X-Amz-Signature" in release["file"]["url"]
    assert release["file"].get("content_b64") is None
    assert response["headers"]["ETag"] == '"20251124120000-0badc0de"'


def test_unchanged_model_is_a_304_without_body(aws, lambda_context, tmp_path):
    publish(tmp_path, "20251124120000-0badc0de")
    response = model.handler(sample("model/not-modified"), lambda_context)
    assert response["statusCode"] == 304
    assert not response.get("body")


def test_a_promotion_changes_the_answer(aws, lambda_context, tmp_path):
    publish(tmp_path, "20251124120000-0badc0de")
    publish(tmp_path, "20251125080000-feedf00d", payload=b"M\x06newer")
    response = model.handler(sample("model/not-modified"), lambda_context)
    assert response["statusCode"] == 200
    assert body(response)["version"] == "20251125080000-feedf00d"
    pointer = wiring.s3().get_object(
        Bucket=get_settings().data_bucket, Key=storage_layout.CURRENT_MODEL_KEY
    )
    assert json.loads(pointer["Body"].read())["version"] == "20251125080000-feedf00d"


def test_inline_returns_the_file_bytes(aws, lambda_context, tmp_path):
    publish(tmp_path, "v2", payload=b"\x00\x01binary")
    event = with_query(sample("model/valid"), inline="true", file="model.mpy")
    release = body(model.handler(event, lambda_context))
    assert base64.b64decode(release["file"]["content_b64"]) == b"\x00\x01binary"


def test_unknown_file_is_rejected(aws, lambda_context):
    response = model.handler(sample("model/bad"), lambda_context)
    assert response["statusCode"] == 400
    assert body(response)["field"] == "file"
