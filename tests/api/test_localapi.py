"""localcloud.server: HTTP in, API Gateway events to the real handlers, keys checked first."""

import hashlib
import json
import time
import urllib.error
import urllib.request

import pytest

from functions import wiring
from localcloud.lambda_runtime import rest_event
from localcloud.server import LocalCloud
from localcloud.stack import load_routes
from tests.cloud_http import call


def events(*seqs):
    now = int(time.time() * 1000)
    return {
        "events": [
            {"seq": s, "gesture": "x", "t_ms": now - 1000, "score": 0.9, "model_version": "v"}
            for s in seqs
        ]
    }


@pytest.fixture
def api():
    with LocalCloud(port=0) as local:
        wiring.models().add_to_vocabulary({"version": "v", "classes": ["idle", "x"]})
        yield local


def test_routes_come_from_infra_functions_yml():
    routes = {(r.method, r.path): r for r in load_routes()}
    assert set(routes) == {
        ("GET", "/health"),
        ("POST", "/events"),
        ("GET", "/events"),
        ("POST", "/telemetry"),
        ("POST", "/samples"),
        ("GET", "/model"),
        ("GET", "/devices"),
        ("GET", "/events/counts"),
        ("GET", "/models"),
    }
    assert not routes[("GET", "/health")].private
    assert all(r.private for key, r in routes.items() if key != ("GET", "/health"))


def test_requests_without_a_valid_key_never_reach_a_handler(api, monkeypatch):
    called = []
    route, handler = api._handlers[("POST", "/events")]
    monkeypatch.setitem(
        api._handlers, ("POST", "/events"), (route, lambda e, c: called.append(e) or handler(e, c))
    )
    for key in (None, "wrong-key"):
        status, _, data = call(api, "POST", "/events", key, events(1))
        assert status == 403
        assert json.loads(data) == {"message": "Forbidden"}
    assert called == []
    key = api.add_device("dev-1")
    assert call(api, "POST", "/events", key, events(1))[0] == 200
    assert called[0]["requestContext"]["identity"]["apiKeyId"]
    assert key not in json.dumps(called[0]["requestContext"])


def test_each_key_writes_as_its_own_device_only(api):
    key_a, key_b = api.add_device("dev-a"), api.add_device("dev-b")
    status, _, data = call(api, "POST", "/events", key_a, events(1, 2))
    assert status == 200 and json.loads(data)["device_id"] == "dev-a"
    status, _, data = call(api, "POST", "/events", key_b, events(3) | {"device_id": "dev-a"})
    assert status == 403
    status, _, data = call(api, "GET", "/events?device_id=dev-a", key_a)
    assert [e["seq"] for e in json.loads(data)["items"]] == [2, 1]
    assert call(api, "GET", "/events?device_id=dev-a", key_b)[0] == 403


def test_retry_over_http_gets_the_same_answer(api):
    key = api.add_device("dev-1")
    first = call(api, "POST", "/events", key, events(7, 8))
    retry = call(api, "POST", "/events", key, events(7, 8))
    assert first[0] == retry[0] == 200 and first[2] == retry[2]


def test_published_model_downloads_through_the_local_url(api, tmp_path):
    key = api.add_device("dev-1")
    payload = b"M\x06model-bytes"
    (tmp_path / "model.mpy").write_bytes(payload)
    files = {"model.mpy": {"sha256": hashlib.sha256(payload).hexdigest(), "bytes": len(payload)}}
    (tmp_path / "manifest.json").write_text(json.dumps({"version": "v9", "files": files}))
    assert api.publish_model(tmp_path) == "v9"
    status, headers, data = call(api, "GET", "/model", key)
    assert status == 200 and headers["ETag"] == '"v9"'
    url = json.loads(data)["file"]["url"]
    assert url.startswith(api.url + "/gesture-stack-local-data/models/v9/model.mpy?")
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == payload
    # the object only with the signature, as S3 serves it: no key, a changed one, another object
    plain = url.partition("?")[0]
    assert call(api, "GET", plain.removeprefix(api.url))[0] == 403
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert call(api, "GET", tampered.removeprefix(api.url))[0] == 403
    other = url.replace("models/v9/model.mpy", "models/current.json")
    assert call(api, "GET", other.removeprefix(api.url))[0] == 403
    assert call(api, "GET", "/model", key, headers={"If-None-Match": '"v9"'})[0] == 304


def test_unknown_route_and_bad_json_are_4xx(api):
    key = api.add_device("dev-1")
    assert call(api, "GET", "/nope", key)[0] == 403  # API Gateway: Missing Authentication Token
    status, _, data = call(api, "POST", "/events", key, b"{not json")
    assert status == 400 and json.loads(data)["field"] == "body"
    assert call(api, "GET", "/health")[0] == 200


def test_rest_event_matches_the_api_gateway_shape():
    event = rest_event(
        "GET", "/events", query={"limit": ["5"]}, headers={"a": "b"}, api_key_id="kid"
    )
    assert event["queryStringParameters"] == {"limit": "5"}
    assert event["multiValueQueryStringParameters"] == {"limit": ["5"]}
    assert event["requestContext"]["identity"]["apiKeyId"] == "kid"
    assert event["requestContext"]["resourcePath"] == "/events"
    assert event["isBase64Encoded"] is False
