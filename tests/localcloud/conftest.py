"""A local cloud per test (in memory, or with a state folder), and raw HTTP helpers."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request

import pytest

from localcloud.server import LocalCloud


@pytest.fixture
def cloud():
    lines: list[str] = []
    with LocalCloud(port=0, log=lines.append, pipeline=False) as local:
        local.lines = lines
        yield local


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


def pytest_collection_modifyitems(items):
    """Powertools warns on every request without metrics (as in tests/api)."""
    quiet = pytest.mark.filterwarnings("ignore:No application metrics to publish")
    for item in items:
        if "tests/localcloud/" in item.nodeid:
            item.add_marker(quiet)
