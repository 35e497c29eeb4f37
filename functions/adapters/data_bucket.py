"""The data bucket: raw sample windows in, promoted models out (keys: functions.storage_layout).

Publishing a model is one protocol with one home, `ModelStore`: the folder's files under
models/<version>/, its gestures into models/vocabulary.json (a conditional read-merge-write,
retried: publications at once lose no gesture), then models/current.json by
compare-and-swap (`ModelPointer`), so GET /model never serves a half-uploaded version and of two
publications at once only one changes the pointer. The retrain job (pipeline/current_model.py)
and the local tools (`gesture-stack up`, local_handlers/) both publish through it.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import ClientError

from functions import storage_layout as layout
from functions.domain import vocabulary

VOCABULARY_ATTEMPTS = 10  # conditional writes a publication tries on models/vocabulary.json


def get_if_present(client, bucket: str, key: str, **conditions) -> dict | None:
    """S3's GetObject answer for `key`, or None when there is no such key: every "read this key
    if it exists" goes through here.

    S3 says NoSuchKey (404) for a missing key only to a caller that may list it; whether an
    s3:ListBucket allowed only for some `s3:prefix` values counts is not documented, so a 403
    AccessDenied may mean "not there" too. Then a ListObjectsV2 with Prefix=key (the request
    such a permission allows: infra/storage.yml) tells: not listed is an absence, listed is a
    real permission problem, raised. An existing key costs one request, as before.
    `conditions`: e.g. IfNoneMatch (its 304 is raised, as S3 answers it)."""
    try:
        return client.get_object(Bucket=bucket, Key=key, **conditions)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code in ("NoSuchKey", "404"):
            return None
        if code in ("AccessDenied", "403") and not _listed(client, bucket, key):
            return None
        raise


def _listed(client, bucket: str, key: str) -> bool:
    listed = client.list_objects_v2(Bucket=bucket, Prefix=key, MaxKeys=1)
    return any(item["Key"] == key for item in listed.get("Contents", []))


class VocabularyContention(RuntimeError):
    """Other publications kept changing models/vocabulary.json: nothing was written."""


def _lost_race(error: ClientError, etag: str | None) -> bool:
    """A conditional PutObject refused because the object changed since it was read: 412; 409
    (another conditional write in progress: S3 asks to retry); 404 (If-Match on a deleted key)."""
    code = error.response["Error"]["Code"]
    return code in ("PreconditionFailed", "412", "ConditionalRequestConflict", "409") or (
        code in ("NoSuchKey", "404") and etag is not None
    )


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
        found = get_if_present(self._client, self._bucket, key)
        return json.loads(found["Body"].read()) if found else None

    def current_version(self) -> str | None:
        """The promoted version from models/current.json (None before the first promotion)."""
        pointer = self._json(layout.CURRENT_MODEL_KEY)
        return pointer["version"] if pointer else None

    def vocabulary_if_changed(self, etag: str | None) -> tuple[frozenset[str], str | None] | None:
        """(the gestures of every published model, the vocabulary's ETag), or None when it is
        still `etag` (a conditional GET: S3 answers 304 without a body). A bucket from before
        the vocabulary file falls back to the current model's classes (empty when nothing is
        published), with no ETag, so each check reads it again."""
        condition = {"IfNoneMatch": etag} if etag else {}
        try:
            found = get_if_present(self._client, self._bucket, layout.VOCABULARY_KEY, **condition)
        except ClientError as error:
            if error.response["Error"]["Code"] in ("304", "NotModified"):
                return None
            raise
        if found is None:
            version = self.current_version()
            if version is None:
                return frozenset(), None
            classes = self.manifest(version).get("classes", [])
            return frozenset(vocabulary.gestures_of(classes)), None
        document = json.loads(found["Body"].read())
        return frozenset(document.get("gestures", [])), found["ETag"]

    def vocabulary(self) -> frozenset[str]:
        """The gestures of every published model (see vocabulary_if_changed)."""
        return self.vocabulary_if_changed(None)[0]

    def add_to_vocabulary(self, manifest: dict, attempts: int = VOCABULARY_ATTEMPTS) -> dict:
        """Merge a release's gestures into models/vocabulary.json (before its pointer).

        A read-merge-write made safe for publications at once: the write is conditional on the
        object being the one read (If-Match on its ETag; If-None-Match: * when there was none),
        and a refused write reads, merges and tries again, so no release's gestures are lost.
        """
        key = layout.VOCABULARY_KEY
        for attempt in range(attempts):
            found = get_if_present(self._client, self._bucket, key)
            read = json.loads(found["Body"].read()) if found else None
            etag = found["ETag"] if found else None
            document = vocabulary.merged(read, manifest["version"], manifest.get("classes", []))
            if document == read:
                return document  # already there (a retried publication)
            condition = {"IfMatch": etag} if etag else {"IfNoneMatch": "*"}
            try:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=json.dumps(document).encode(),
                    ContentType="application/json",
                    **condition,
                )
                return document
            except ClientError as error:
                if not _lost_race(error, etag):
                    raise
            time.sleep(random.uniform(0, 0.05 * (attempt + 1)))  # let the other writer finish
        raise VocabularyContention(
            f"{key} kept changing during {attempts} attempts to add {manifest['version']}"
        )

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

    def upload_release(self, model_dir: Path, manifest: dict, **note) -> dict:
        """Everything of a publication but the pointer: the folder's files (manifest.json
        among them) under models/<version>/, then the release's gestures added to the fleet's
        vocabulary (POST /events accepts them before any device runs it). Returns the
        models/current.json body to swap in: it names the time and `note` (e.g. the run id),
        so no two pointer writes share an ETag (no A-B-A)."""
        version = manifest["version"]
        for path in sorted(p for p in Path(model_dir).rglob("*") if p.is_file()):
            key = layout.model_file_key(version, path.relative_to(model_dir).as_posix())
            self._client.put_object(Bucket=self._bucket, Key=key, Body=path.read_bytes())
        self.add_to_vocabulary(manifest)
        promoted_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        return {**layout.current_pointer(version), **note, "promoted_at": promoted_at}

    def pointer(self) -> ModelPointer:
        return ModelPointer(self._client, self._bucket)

    def publish(self, model_dir: Path, manifest: dict | None = None) -> str:
        """Upload a model folder and make it current; returns its version. `manifest`: the
        folder's manifest.json as a dict (read from the folder when not given).

        The pointer is swapped last, and only if it is still what it was before the upload:
        a publication that lost a race raises PublicationRaced and changes no pointer.
        """
        if manifest is None:
            manifest = json.loads((Path(model_dir) / layout.MANIFEST_NAME).read_text())
        pointer = self.pointer()
        seen = pointer.read()
        if not pointer.swap(seen, self.upload_release(model_dir, manifest)):
            raise PublicationRaced(
                f"models/current.json changed while {manifest['version']} was uploaded "
                f"(to {pointer.read().version}); it is not current: publish it again"
            )
        return manifest["version"]


class PublicationRaced(RuntimeError):
    """Another publication changed models/current.json between the read and the swap."""


@dataclass(frozen=True)
class Seen:
    """models/current.json as one read found it: its body (None = no current model) and ETag."""

    pointer: dict | None
    etag: str | None

    @property
    def version(self) -> str | None:
        return self.pointer["version"] if self.pointer else None


class ModelPointer:
    """models/current.json, read with its ETag and written conditionally: `swap()` writes with
    If-Match on the ETag `read()` saw (If-None-Match: * when there was none), so S3 refuses
    the write (412) if another publication changed the pointer in between."""

    def __init__(self, s3, bucket: str, key: str = layout.CURRENT_MODEL_KEY):
        self._s3 = s3
        self._bucket = bucket
        self._key = key

    def read(self) -> Seen:
        got = get_if_present(self._s3, self._bucket, self._key)
        if got is None:
            return Seen(None, None)
        return Seen(json.loads(got["Body"].read()), got["ETag"])

    def swap(self, seen: Seen, pointer: dict) -> bool:
        """Write `pointer` only if the object is still what `seen` read; False if it is not."""
        condition = {"IfMatch": seen.etag} if seen.etag else {"IfNoneMatch": "*"}
        try:
            self._s3.put_object(
                Bucket=self._bucket,
                Key=self._key,
                Body=(json.dumps(pointer, indent=2, sort_keys=True) + "\n").encode(),
                ContentType="application/json",
                **condition,
            )
        except ClientError as error:
            if _lost_race(error, seen.etag):
                return False
            raise
        return True


class VocabularyCache:
    """The fleet's vocabulary as a warm Lambda keeps it: read once; when a name is not in it,
    asked again with the ETag it holds (a publication changes the ETag, so a gesture is known
    the moment its release is published; an unchanged vocabulary costs a 304 without a body).
    Names it knows cost no request."""

    def __init__(self, read_if_changed: Callable[[str | None], tuple | None]):
        self._read_if_changed = read_if_changed
        self._known: frozenset[str] | None = None
        self._etag: str | None = None

    def known(self, names: set[str] = frozenset()) -> frozenset[str]:
        if self._known is None or not set(names) <= self._known:
            changed = self._read_if_changed(self._etag if self._known is not None else None)
            if changed is not None:
                self._known, self._etag = changed
        return self._known


class RunRecords:
    """Read-only: model folders and pipeline run records (keys: functions.storage_layout).

    The documents read here are written once (a version's manifest, a run's raw manifest and
    promotion report), so a warm Lambda keeps each one it has read.
    """

    def __init__(self, client, bucket: str):
        self._client = client
        self._bucket = bucket
        self._kept: dict[str, tuple[dict, str]] = {}

    def models(self) -> tuple[list[str], str | None]:
        """(every version under models/, the version models/current.json points at or None)."""
        prefixes, keys = self._list(layout.MODELS_PREFIX)
        versions = [p[len(layout.MODELS_PREFIX) : -1] for p in prefixes]
        pointer = self._read(layout.CURRENT_MODEL_KEY) if layout.CURRENT_MODEL_KEY in keys else None
        return versions, pointer[0]["version"] if pointer else None

    def run_ids(self) -> list[str]:
        prefixes, _ = self._list(layout.RUNS_PREFIX)
        return [p[len(layout.RUNS_PREFIX) : -1] for p in prefixes]

    def kept(self, key: str) -> tuple[dict, str] | None:
        """(document, LastModified ISO time) of a write-once JSON object, or None if absent."""
        if key not in self._kept:
            found = self._read(key)
            if found is None:
                return None
            self._kept[key] = found
        return self._kept[key]

    def _list(self, prefix: str) -> tuple[list[str], list[str]]:
        """(child prefixes, object keys) directly under `prefix`."""
        prefixes: list[str] = []
        keys: list[str] = []
        request = {"Bucket": self._bucket, "Prefix": prefix, "Delimiter": "/"}
        while True:
            response = self._client.list_objects_v2(**request)
            prefixes += [p["Prefix"] for p in response.get("CommonPrefixes", [])]
            keys += [o["Key"] for o in response.get("Contents", [])]
            if not response.get("IsTruncated"):
                return prefixes, keys
            request["ContinuationToken"] = response["NextContinuationToken"]

    def _read(self, key: str) -> tuple[dict, str] | None:
        response = get_if_present(self._client, self._bucket, key)
        if response is None:
            return None
        return json.loads(response["Body"].read()), response["LastModified"].isoformat()
