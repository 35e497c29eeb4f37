"""Presigned S3 GET URLs, checked as S3 checks them (SigV4 query auth: signature and expiry).

The local cloud hands devices model download URLs signed with its own credentials (botocore
makes them, as the model Lambda does in AWS) and serves a bucket object only to a URL whose
signature is right and has not expired. Nothing else on the API port serves bucket objects.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote

ALGORITHM = "AWS4-HMAC-SHA256"
_FORMAT = "%Y%m%dT%H%M%SZ"
MAX_EXPIRES_S = 7 * 24 * 3600


class PresignError(ValueError):
    """Why a presigned URL is refused (the message S3 would give, roughly)."""


def is_presigned(query: str) -> bool:
    return "X-Amz-Signature=" in query


def _quote(text: str) -> str:
    return quote(text, safe="-_.~")


def _signing_key(secret: str, day: str, region: str, service: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in (day, region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def verify(
    method: str,
    raw_path: str,
    query: str,
    host: str,
    credentials: dict[str, str],
    now: datetime | None = None,
) -> None:
    """Raise PresignError unless this request carries a valid, unexpired presigned signature
    made with `credentials` ({"access_key", "secret_key"})."""
    params = parse_qsl(query, keep_blank_values=True)
    values = dict(params)
    try:
        signature = values["X-Amz-Signature"]
        credential = values["X-Amz-Credential"]
        stamp = values["X-Amz-Date"]
        expires = int(values["X-Amz-Expires"])
        signed_headers = values["X-Amz-SignedHeaders"]
        signed_at = datetime.strptime(stamp, _FORMAT).replace(tzinfo=UTC)
    except (KeyError, ValueError) as exc:
        raise PresignError("AuthorizationQueryParametersError") from exc
    if values.get("X-Amz-Algorithm") != ALGORITHM or signed_headers != "host":
        raise PresignError("AuthorizationQueryParametersError")
    access_key, _, scope = credential.partition("/")
    day, region, service, terminal = ([*scope.split("/"), "", "", "", ""])[:4]
    if access_key != credentials["access_key"] or terminal != "aws4_request":
        raise PresignError("InvalidAccessKeyId")
    if day != stamp[:8] or service != "s3":
        raise PresignError("SignatureDoesNotMatch")
    now = now or datetime.now(UTC)
    if not 0 < expires <= MAX_EXPIRES_S or now > signed_at + timedelta(seconds=expires):
        raise PresignError("Request has expired")
    canonical_query = "&".join(
        f"{_quote(k)}={_quote(v)}" for k, v in sorted(params) if k != "X-Amz-Signature"
    )
    canonical = "\n".join(
        [method, raw_path, canonical_query, f"host:{host}", "", "host", "UNSIGNED-PAYLOAD"]
    )
    to_sign = "\n".join([ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _signing_key(credentials["secret_key"], day, region, service)
    expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        raise PresignError("SignatureDoesNotMatch")
