"""The local cloud answers HTTP as API Gateway does, and serves no bucket object without a key."""

from __future__ import annotations

import json
import threading
import time

import pytest
from cloud_helpers import model_folder, raw

from tests.cloud_http import call


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body or b"{}")


@pytest.mark.parametrize("method", ["TRACE", "PATCH", "OPTIONS", "DELETE", "PUT", "BREW"])
def test_unknown_methods_answer_missing_authentication_token(cloud, method):
    answer = raw(
        cloud, f"{method} /events HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    )
    assert status_and_body(answer) == (403, {"message": "Missing Authentication Token"})


@pytest.mark.parametrize(
    "path", ["/nope", "/events/1", "/gesture-stack-local-data/models/current.json"]
)
def test_unknown_paths_answer_missing_authentication_token(cloud, path):
    key = cloud.add_device("dev-1")
    status, _, data = call(cloud, "GET", path, key)
    assert (status, json.loads(data)) == (403, {"message": "Missing Authentication Token"})


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", ""])
def test_a_malformed_content_length_is_a_400(cloud, length):
    request = f"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n\r\n{{}}"
    status, body = status_and_body(raw(cloud, request.encode()))
    assert status == 400 and "Content-Length" in body["message"]


def test_a_body_shorter_than_its_content_length_is_a_400_not_a_hang(cloud):
    started = time.monotonic()
    answer = raw(cloud, b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{}")
    assert status_and_body(answer)[0] == 400
    assert time.monotonic() - started < 10


def test_a_body_over_the_api_gateway_limit_is_a_413_without_reading_it(cloud):
    request = b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\n{}"
    assert status_and_body(raw(cloud, request))[0] == 413


def test_the_server_keeps_serving_after_bad_requests(cloud):
    raw(cloud, b"POST /events HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
    assert call(cloud, "GET", "/health")[0] == 200


def test_a_revoked_key_is_refused_before_any_handler(cloud):
    key = cloud.add_device("dev-1")
    assert call(cloud, "GET", "/events", key)[0] == 200
    cloud.keys.revoke("dev-1")
    status, _, data = call(cloud, "GET", "/events", key)
    assert (status, json.loads(data)) == (403, {"message": "Forbidden"})


def test_each_request_is_one_log_line_with_its_device(cloud):
    key = cloud.add_device("dev-7")
    call(cloud, "GET", "/events", key)
    call(cloud, "GET", "/nope")
    line, other = cloud.lines[-2:]
    method, path, device, status, ms = line.split()
    assert (method, path, device, status) == ("GET", "/events", "device=dev-7", "200")
    assert ms.endswith("ms") and float(ms[:-2]) >= 0
    assert other.split()[:4] == ["GET", "/nope", "device=-", "403"]


def test_the_dashboard_config_names_this_api_and_a_dashboard_key(cloud):
    status, _, data = call(cloud, "GET", "/dashboard-config.json")
    config = json.loads(data)
    assert status == 200 and config["api"] == cloud.url
    [record] = [r for r in cloud.keys.list() if r.role == "dashboard"]
    assert record.enabled and cloud.keys.value(record.api_key_id) == config["key"]


def test_nothing_outside_the_dashboard_folder_is_served(cloud):
    for path in ("/../package.json", "/%2e%2e/pyproject.toml", "/vendor/../../README.md"):
        assert call(cloud, "GET", path)[0] == 403, path
    assert call(cloud, "GET", "/vendor/not-in-the-mapping.js")[0] == 403


def test_handlers_run_concurrently_not_behind_one_lock(cloud, monkeypatch):
    route, handler = cloud._handlers[("GET", "/health")]

    def slow(event, context):
        time.sleep(0.5)
        return handler(event, context)

    monkeypatch.setitem(cloud._handlers, ("GET", "/health"), (route, slow))
    threads = [threading.Thread(target=call, args=(cloud, "GET", "/health")) for _ in range(4)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert time.monotonic() - started < 1.5  # serialized: 2 s


def test_twenty_clients_at_once_are_all_answered(cloud, tmp_path):
    cloud.publish_model(model_folder(tmp_path))  # "x" is a gesture of a published release
    keys = [cloud.add_device(f"dev-{i}") for i in range(20)]
    now = int(time.time() * 1000)
    answers: list[int] = []

    def client(i: int) -> None:
        for n in range(3):
            batch = {
                "events": [
                    {
                        "seq": n * 25 + s,
                        "gesture": "x",
                        "t_ms": now - 60_000 + n * 1000 + s,
                        "score": 0.9,
                        "model_version": "v",
                    }
                    for s in range(25)
                ]
            }
            answers.append(call(cloud, "POST", "/events", keys[i], batch)[0])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200] * 60
