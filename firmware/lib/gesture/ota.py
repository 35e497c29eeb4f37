"""Model updates over the air: GET /model, download to a temporary folder, verify size and
sha256 against the release (and its manifest), then swap atomically; any failure leaves the
running model and the files on flash untouched."""

import binascii
import hashlib
import json

from gesture import httpclient, modelstore, storage


class OtaError(Exception):
    """The release could not be fetched or did not verify; the current model stays."""


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
    """Checks `<api_url>/model`; `check()` returns (manifest, score) of a new model or None."""

    def __init__(self, api_url, api_key, model_dir, timeout_s=10, check=None):
        self.url = api_url.rstrip("/") + "/model"
        self.headers = {"x-api-key": api_key}
        self.model_dir = model_dir
        self.timeout_s = timeout_s
        self.check_model = check  # check(manifest, score) raises if the model cannot run
        self.failures = 0
        self.last_error = None

    def check(self, current_version):
        """Install a newer model if the API has one; None when there is nothing new."""
        headers = dict(self.headers)
        if current_version:
            headers["If-None-Match"] = '"' + current_version + '"'
        resp = httpclient.request("GET", self.url, None, headers, timeout=self.timeout_s)
        if resp.status in (304, 404):
            return None
        if not resp.ok:
            raise OtaError(f"GET /model answered {resp.status}")
        release = json.loads(resp.body)
        if release["version"] == current_version:
            return None
        return self.install(release)

    def install(self, release):
        """Download, verify and swap in a release; on failure the current model stays."""
        new_dir = self.model_dir + ".new"
        storage.remove(new_dir)
        storage.makedirs(new_dir)
        try:
            self._download(release, new_dir)
            storage.write_atomic(new_dir + "/manifest.json", json.dumps(release["manifest"]))
            loaded = modelstore.load(new_dir, self.check_model)
        except Exception:
            storage.remove(new_dir)
            raise
        modelstore.swap_in(new_dir, self.model_dir)
        return loaded

    def _download(self, release, new_dir):
        file = release["file"]
        name = file["name"]
        if name not in ("model.mpy", "model.py"):
            raise OtaError("unexpected model file " + repr(name))
        expected = release["manifest"].get("files", {}).get(name, {})
        sha256 = file.get("sha256") or expected.get("sha256")
        size = file.get("bytes") or expected.get("bytes")
        if not sha256 or size is None:
            raise OtaError("release has no sha256/size for " + name)
        with open(new_dir + "/" + name, "wb") as f:
            writer = _HashingWriter(f)
            if file.get("content_b64"):
                writer(binascii.a2b_base64(file["content_b64"]))
            else:
                resp = httpclient.request("GET", file["url"], timeout=self.timeout_s, sink=writer)
                if not resp.ok:
                    raise OtaError(f"model download answered {resp.status}")
        if writer.size != size:
            raise OtaError(f"{name}: {writer.size} bytes, expected {size}")
        if writer.hexdigest() != sha256:
            raise OtaError(name + ": sha256 mismatch")
        if expected and (expected.get("sha256") != sha256 or expected.get("bytes") != size):
            raise OtaError(name + ": release and manifest disagree")
