"""The data bucket: raw sample windows in, promoted models out (keys: functions.storage_layout)."""

from __future__ import annotations

import json
from pathlib import Path

from functions import storage_layout as layout


class SamplesBucket:
    def __init__(self, client, bucket: str):
        self._client = client
        self._bucket = bucket

    def put(self, key: str, document: dict) -> None:
        """Write one raw window; the key is derived from the content, so a retry is a no-op."""
        self._client.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=json.dumps(document, separators=(",", ":")).encode(),
            ContentType="application/json",
        )


class ModelStore:
    def __init__(self, client, bucket: str):
        self._client = client
        self._bucket = bucket

    def current_version(self) -> str | None:
        """The promoted version from models/current.json (None before the first promotion)."""
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=layout.CURRENT_MODEL_KEY)
        except self._client.exceptions.NoSuchKey:
            return None
        return json.loads(body["Body"].read())["version"]

    def manifest(self, version: str) -> dict:
        key = layout.model_file_key(version, layout.MANIFEST_NAME)
        return json.loads(self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read())

    def file_bytes(self, version: str, name: str) -> bytes:
        key = layout.model_file_key(version, name)
        return self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()

    def presigned_url(self, version: str, name: str, expires_s: int) -> str:
        return self._client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": layout.model_file_key(version, name)},
            ExpiresIn=expires_s,
        )

    def publish(self, model_dir: Path) -> str:
        """Upload a model folder (manifest.json + files) and make it current; returns its version.

        The pointer is written last so GET /model never serves a half-uploaded version.
        """
        manifest = json.loads((model_dir / layout.MANIFEST_NAME).read_text())
        version = manifest["version"]
        for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
            key = layout.model_file_key(version, path.relative_to(model_dir).as_posix())
            self._client.put_object(Bucket=self._bucket, Key=key, Body=path.read_bytes())
        pointer = json.dumps(layout.current_pointer(version)).encode()
        self._client.put_object(
            Bucket=self._bucket,
            Key=layout.CURRENT_MODEL_KEY,
            Body=pointer,
            ContentType="application/json",
        )
        return version
