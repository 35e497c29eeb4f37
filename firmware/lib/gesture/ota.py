"""Model updates over the air, one bounded step per main-loop iteration.

`begin(now, version)` starts a check; `step(now)` then does one piece of work (connect, or one
read of at most `chunk` bytes, waiting at most `wait_ms` for it) and returns (manifest, score)
once a new model is installed.
GET /model -> the release is validated before anything touches flash (version format, file
name, sha256 and size given by the release and equal in its manifest, size within
`max_bytes` and the free flash) -> the file streams into `<model_dir>.new/` with a running
sha256, its HTTP status and length checked first -> size and hash verified -> "trying" is
persisted, the model imported and checked -> atomic swap (`model/` -> `model.prev/`). A total
`deadline_s` (on the board's clock) bounds the whole check. Any failure removes `.new/` and
leaves the running model and its files untouched; a model that fails to import or run is
remembered as bad (see gesture.probation) and never downloaded again.
"""

import binascii
import hashlib
import json
import time

from gesture import download, modelstore, storage

MAX_RELEASE_BYTES = 32768  # the GET /model answer (manifest included)
FLASH_MARGIN = 4096  # beyond the model file: its manifest and the trial record


class OtaError(Exception):
    """The release could not be fetched or did not verify; the current model stays."""


def _is_hex64(s):
    if not isinstance(s, str) or len(s) != 64:
        return False
    return all(ch in "0123456789abcdef" for ch in s)


def _is_size(n):
    return isinstance(n, int) and not isinstance(n, bool) and n > 0


def plan(release, max_bytes):
    """(version, name, sha256, size) of a release the device may install; OtaError if it is
    malformed, inconsistent or too large. Trusts nothing the server sent."""
    if not isinstance(release, dict):
        raise OtaError("release is not a JSON object")
    version = release.get("version")
    if not modelstore.valid_version(version):
        raise OtaError("bad version " + repr(version)[:80])
    manifest, file = release.get("manifest"), release.get("file")
    if not isinstance(manifest, dict) or not isinstance(file, dict):
        raise OtaError("release without manifest or file")
    if manifest.get("version") != version:
        raise OtaError("release and manifest disagree on the version")
    name = file.get("name")
    if name not in modelstore.MODEL_FILES:
        raise OtaError("unexpected model file " + repr(name)[:80])
    sha256, size = file.get("sha256"), file.get("bytes")
    if not _is_hex64(sha256) or not _is_size(size):
        raise OtaError("release has no valid sha256/size for " + name)
    files = manifest.get("files")
    expected = files.get(name) if isinstance(files, dict) else None
    if not isinstance(expected, dict):
        raise OtaError("manifest does not describe " + name)
    if expected.get("sha256") != sha256 or expected.get("bytes") != size:
        raise OtaError(name + ": release and manifest disagree")
    if size > max_bytes:
        raise OtaError(f"{name}: {size} bytes, more than the {max_bytes} allowed")
    return version, name, sha256, size


class _HashingWriter:
    def __init__(self, f):
        self.f = f
        self.sha = hashlib.sha256()
        self.size = 0

    def __call__(self, mv):
        self.f.write(mv)
        self.sha.update(mv)
        self.size += len(mv)

    def hexdigest(self):
        return binascii.hexlify(self.sha.digest()).decode()


class Ota:
    """Checks `<api_url>/model` cooperatively (see the module docstring)."""

    def __init__(
        self,
        api_url,
        api_key,
        model_dir,
        check=None,
        trial=None,
        timeout_s=10,
        deadline_s=120,
        chunk=1024,
        max_bytes=131072,
        wait_ms=20,
        reserve=0,
    ):
        self.url = api_url.rstrip("/") + "/model"
        self.headers = {"x-api-key": api_key}
        self.model_dir = model_dir
        self.new_dir = model_dir + ".new"
        self.check_model = check  # check(manifest, score) raises if the model cannot run
        self.trial = trial  # a gesture.probation.Trial, or None
        self.timeout_s = timeout_s
        self.deadline_ms = int(deadline_s * 1000)
        self.chunk = chunk
        self.wait_ms = wait_ms  # the longest one step waits for data to arrive
        self.max_bytes = max_bytes
        self.reserve = reserve  # free flash the event queues keep (flash_reserve_bytes)
        self.busy = False
        self.steps = 0
        self._get = None
        self._file = None

    # -- the state machine -----------------------------------------------------------
    def begin(self, now, current_version):
        """Start a check for a release newer than `current_version`."""
        self.abort()
        headers = dict(self.headers)
        known = [current_version] if modelstore.valid_version(current_version) else []
        if self.trial is not None:
            known += self.trial.bad  # the API answers 304 for these too
        if known:
            headers["If-None-Match"] = ", ".join('"' + v + '"' for v in known)
        self._current = current_version
        self._started = now
        self.steps = 0
        self._body = []
        self._release = None
        self.busy = True
        self._start_get(self.url, headers, self._collect, self._release_head, None)

    def _collect(self, mv):
        self._body.append(bytes(mv))

    def step(self, now):
        """One bounded piece of work; (manifest, score) when a new model was installed."""
        if not self.busy:
            return None
        self.steps += 1
        if time.ticks_diff(now, self._started) > self.deadline_ms:
            got = self._get.size if self._get is not None else 0
            raise OtaError(f"deadline: {self.deadline_ms // 1000} s passed, {got} bytes in")
        if not self._get.step():
            return None
        get, self._get = self._get, None
        if self._release is None:
            return self._on_release(get)
        return self._on_file(get)

    def abort(self):
        """Stop whatever is under way and remove the partial download."""
        if self._get is not None:
            self._get.close()
            self._get = None
        if self._file is not None:
            self._file.close()
            self._file = None
        if self.busy:
            storage.remove(self.new_dir)
        self.busy = False

    def _start_get(self, url, headers, sink, on_head, max_bytes):
        self._get = download.Get(
            url,
            headers,
            sink,
            on_head,
            max_bytes if max_bytes is not None else MAX_RELEASE_BYTES,
            self.chunk,
            self.wait_ms,
            self.timeout_s,
        )

    # -- GET /model --------------------------------------------------------------------
    def _release_head(self, get):
        if get.status in (304, 404):
            return
        if not 200 <= get.status < 300:
            raise OtaError(f"GET /model answered {get.status}")
        if int(get.headers.get("content-length", 0)) > MAX_RELEASE_BYTES:
            raise OtaError("release answer too long")

    def _on_release(self, get):
        if get.status in (304, 404):
            return self._done(None)
        try:
            release = json.loads(b"".join(self._body))
        except ValueError:
            raise OtaError("release is not JSON") from None
        self._body = None
        version, name, sha256, size = plan(release, self.max_bytes)
        if version == self._current:
            return self._done(None)
        if self.trial is not None and self.trial.is_bad(version):
            print("gs-ota skipped version=" + version + ": it failed before")
            return self._done(None)
        storage.remove(self.new_dir)
        parent = self.model_dir.rpartition("/")[0] or "."
        if storage.free_bytes(parent) < size + FLASH_MARGIN + self.reserve:  # events come first
            raise OtaError(f"{name}: {size} bytes do not fit in the free flash")
        self._release = release
        self._expect = (name, sha256, size)
        storage.makedirs(self.new_dir)
        file = release["file"]
        if file.get("content_b64"):
            writer = self._open_file(name)
            writer(binascii.a2b_base64(file["content_b64"]))
            return self._on_file(None)
        url = file.get("url")
        if not isinstance(url, str):
            raise OtaError("release has no url for " + name)
        print(f"gs-ota download version={version} bytes={size}")
        self._start_get(url, None, self._write, self._file_head, size)
        return None

    # -- the model file ----------------------------------------------------------------
    def _open_file(self, name):
        # stays open across loop iterations; closed by _on_file or abort()
        self._file = open(self.new_dir + "/" + name, "wb")  # noqa: SIM115
        self._writer = _HashingWriter(self._file)
        return self._writer

    def _write(self, mv):
        self._writer(mv)

    def _file_head(self, get):
        """Nothing is written unless the answer is a 2xx of the promised length."""
        if not 200 <= get.status < 300:
            raise OtaError(f"model download answered {get.status}")
        length = get.headers.get("content-length")
        if length is not None and int(length) != self._expect[2]:
            raise OtaError(f"model download is {length} bytes, expected {self._expect[2]}")
        self._open_file(self._expect[0])

    def _on_file(self, get):
        name, sha256, size = self._expect
        self._file.close()
        self._file = None
        writer = self._writer
        if writer.size != size:
            raise OtaError(f"{name}: {writer.size} bytes, expected {size}")
        if writer.hexdigest() != sha256:
            raise OtaError(name + ": sha256 mismatch")
        release = self._release
        version = release["version"]
        storage.write_atomic(self.new_dir + "/manifest.json", json.dumps(release["manifest"]))
        if self.trial is not None:
            self.trial.begin(version)  # a reset from here on counts against this version
        print("gs-ota trying version=" + version)
        try:
            loaded = modelstore.load(self.new_dir, self.check_model)
        except modelstore.ModelError:
            if self.trial is not None:
                self.trial.reject(version)
            raise
        modelstore.swap_in(self.new_dir, self.model_dir)
        self.busy = False
        return self._done(loaded)

    def _done(self, result):
        self.busy = False
        self.abort()
        return result
