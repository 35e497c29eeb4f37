"""The one HTTP client of the tests that talk to a local cloud (tests/api, tests/localcloud).

It lives here, not in a folder's conftest (tests/api and tests/localcloud each have one, and
neither can import the other's): `from tests.cloud_http import call`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request


def call(cloud, method, path, key=None, payload=None, headers=None, timeout=10.0):
    """(status, headers, body bytes) of `method path` on `cloud.url`: a JSON body from a
    payload (bytes are sent as they are), the device key as x-api-key; an HTTP error status is
    an answer, not an exception."""
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
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()
