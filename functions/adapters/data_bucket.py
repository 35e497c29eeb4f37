"""The data bucket: raw sample windows in, promoted models out (keys: functions.storage_layout)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from functions import storage_layout as layout
from functions.domain import vocabulary


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

    def _json(self, key: str) -> dict | None:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)
        except self._client.exceptions.NoSuchKey:
            return None
        return json.loads(body["Body"].read())

    def current_version(self) -> str | None:
        """The promoted version from models/current.json (None before the first promotion)."""
        pointer = self._json(layout.CURRENT_MODEL_KEY)
        return pointer["version"] if pointer else None

    def vocabulary_document(self) -> dict | None:
        return self._json(layout.VOCABULARY_KEY)

    def vocabulary(self) -> frozenset[str]:
        """The gestures of every published model; a bucket from before the vocabulary file
        falls back to the current model's classes (empty when nothing is published)."""
        document = self.vocabulary_document()
        if document is not None:
            return frozenset(document.get("gestures", []))
        version = self.current_version()
        if version is None:
            return frozenset()
        return frozenset(vocabulary.gestures_of(self.manifest(version).get("classes", [])))

    def add_to_vocabulary(self, manifest: dict) -> dict:
        """Merge a release's gestures into models/vocabulary.json (before its pointer)."""
        document = vocabulary.merged(
            self.vocabulary_document(), manifest["version"], manifest.get("classes", [])
        )
        self._client.put_object(
            Bucket=self._bucket,
            Key=layout.VOCABULARY_KEY,
            Body=json.dumps(document).encode(),
            ContentType="application/json",
        )
        return document

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
        self.add_to_vocabulary(manifest)
        pointer = json.dumps(layout.current_pointer(version)).encode()
        self._client.put_object(
            Bucket=self._bucket,
            Key=layout.CURRENT_MODEL_KEY,
            Body=pointer,
            ContentType="application/json",
        )
        return version


class VocabularyCache:
    """The fleet's vocabulary as a warm Lambda keeps it: read once, read again when a name is
    not in it (a model was published since) but at most every `refresh_s` seconds."""

    def __init__(self, read: Callable[[], frozenset[str]], refresh_s: float, clock=time.monotonic):
        self._read, self._refresh_s, self._clock = read, refresh_s, clock
        self._known: frozenset[str] | None = None
        self._read_at = 0.0

    def known(self, names: set[str] = frozenset()) -> frozenset[str]:
        stale = self._clock() - self._read_at >= self._refresh_s
        if self._known is None or (stale and not set(names) <= self._known):
            self._known, self._read_at = self._read(), self._clock()
        return self._known
