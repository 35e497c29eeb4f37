"""localcloud.presign: a presigned GET is checked as S3 checks it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.config import Config

from localcloud import presign

CREDENTIALS = {"access_key": "LOCALCLOUD", "secret_key": "s3cr3t"}


def presigned(key: str = "models/v1/model.mpy", secret: str = "s3cr3t", expires: int = 300):
    session = botocore.session.Session()
    session.set_credentials("LOCALCLOUD", secret)
    client = session.create_client(
        "s3",
        region_name="eu-west-1",
        endpoint_url="http://127.0.0.1:8123",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    url = client.generate_presigned_url(
        "get_object", Params={"Bucket": "bkt", "Key": key}, ExpiresIn=expires
    )
    return urlsplit(url)


def check(parts, host="127.0.0.1:8123", now=None, method="GET"):
    presign.verify(method, parts.path, parts.query, host, CREDENTIALS, now=now)


def test_a_url_botocore_signed_with_our_credentials_is_valid():
    check(presigned())
    check(presigned("raw/samples/device=a b/x+y.json"))  # encoded key


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p._replace(path=p.path.replace("model.mpy", "other.mpy")),
        lambda p: p._replace(query=p.query.replace("X-Amz-Expires=300", "X-Amz-Expires=900")),
        lambda p: p._replace(query=p.query[:-2] + "00"),
        lambda p: p._replace(query=p.query.replace("X-Amz-Signature", "X-Amz-Sig")),
    ],
)
def test_a_changed_url_is_refused(change):
    with pytest.raises(presign.PresignError):
        check(change(presigned()))


def test_another_secret_another_host_or_method_is_refused():
    with pytest.raises(presign.PresignError):
        check(presigned(secret="guess"))
    with pytest.raises(presign.PresignError):
        check(presigned(), host="evil:80")
    with pytest.raises(presign.PresignError):
        check(presigned(), method="PUT")


def test_an_expired_url_is_refused():
    parts = presigned(expires=60)
    check(parts, now=datetime.now(UTC) + timedelta(seconds=30))
    with pytest.raises(presign.PresignError, match="expired"):
        check(parts, now=datetime.now(UTC) + timedelta(seconds=120))
