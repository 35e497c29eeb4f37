"""HTTP helpers for the local cloud tests (a module of its own: tests/api has a conftest too)."""

from __future__ import annotations

import hashlib
import json
import socket
import urllib.error
import urllib.request


def call(cloud, method, path, key=None, payload=None, headers=None):
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if key:
        all_headers["x-api-key"] = key
    data = payload if isinstance(payload, bytes) else None
    if payload is not None and data is None:
        data = json.dumps(payload).encode()
    request = urllib.request.Request(
        cloud.url + path, data=data, method=method, headers=all_headers
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def raw(cloud, request: bytes, timeout: float = 15.0) -> bytes:
    """Send bytes as they are, return everything the server answers until it closes."""
    with socket.create_connection((cloud.host, cloud.port), timeout=timeout) as sock:
        sock.sendall(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def model_folder(parent, version="v5", classes=("idle", "x")):
    """A release folder as `publish_model` takes it: its gestures become the fleet's vocabulary
    (POST /events accepts only those), its file described by sha256 and size."""
    folder = parent / version
    folder.mkdir()
    data = b"M\x06"
    (folder / "model.mpy").write_bytes(data)
    files = {"model.mpy": {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}}
    manifest = {"version": version, "classes": list(classes), "files": files}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder
