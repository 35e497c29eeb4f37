"""GET /model: the promoted release, ETag / If-None-Match, inline bytes or a presigned URL."""

import base64
import hashlib
import json

import pytest
from api_helpers import body, sample, with_query
from botocore.exceptions import ClientError

from functions import model, storage_layout, wiring
from functions.settings import get_settings


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


def _s3_answering(code: str, status: int, calls: int):
    """An S3 client whose GetObject answers `code` (what AWS says for a missing key depends on
    the role: 404 NoSuchKey with list rights, 403 AccessDenied without)."""
    import botocore.session
    from botocore.stub import Stubber

    client = botocore.session.get_session().create_client(
        "s3", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s"
    )
    stubber = Stubber(client)
    for _ in range(calls):
        stubber.add_client_error("get_object", service_error_code=code, http_status_code=status)
    stubber.activate()
    return client


def test_a_missing_key_is_an_absence_only_when_s3_says_no_such_key():
    from functions.adapters.data_bucket import ModelStore, RunRecords

    key = storage_layout.run_record_key("r1", storage_layout.RUN_PROMOTION_REPORT)
    assert ModelStore(_s3_answering("NoSuchKey", 404, 1), "b").current_version() is None
    assert RunRecords(_s3_answering("NoSuchKey", 404, 1), "b").kept(key) is None
    # 403: the role lacks a permission (infra/storage.yml); an error, never "no model yet"
    for reader in (
        lambda c: ModelStore(c, "b").current_version(),
        lambda c: RunRecords(c, "b").kept(key),
    ):
        with pytest.raises(ClientError, match="AccessDenied"):
            reader(_s3_answering("AccessDenied", 403, 1))


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
