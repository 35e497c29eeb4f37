"""Raw HTTP and model-folder helpers for the local cloud tests (a module of its own: tests/api
has a conftest too); `call` is tests/cloud_http.py's, shared with tests/api."""

from __future__ import annotations

import hashlib
import json
import socket


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
