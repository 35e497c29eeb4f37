"""Uplink batching, backoff, acknowledgement checks, dead letters, a rejected key and
Retry-After with a scripted HTTP layer (under micropython)."""

import json

from gesture import httpclient, uplink
from gesture.outbox import Outbox


def ack(body):
    """The API's answer to a stored batch (functions.models.events.EventsAccepted)."""
    events = body["events"]
    return {
        "device_id": "d",
        "accepted": len(events),
        "first_seq": events[0]["seq"],
        "last_seq": events[-1]["seq"],
        "ids": [e["id"] for e in events if "id" in e],
    }


class _Script:
    """Each answer: an int status (200: a real acknowledgement, else an error body), an
    exception to raise, or (status, body bytes or a function of the request, headers)."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.bodies = []

    def __call__(self, method, url, body=None, headers=None, timeout=10, sink=None):
        request = json.loads(body)
        self.bodies.append(request)
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            if 200 <= answer < 300:
                return httpclient.Response(answer, {}, json.dumps(ack(request)).encode())
            return httpclient.Response(answer, {}, b'{"error":"x","message":"m"}')
        status, data, headers = answer
        if callable(data):
            data = json.dumps(data(request)).encode()
        return httpclient.Response(status, headers, data)


def _setup(name, answers, n=5, batch=4):
    box = Outbox(name, "events", 100, seq_field="seq")
    for i in range(n):
        box.put({"id": f"1-{i + 1}", "i": i})
    script = _Script(answers)
    uplink.httpclient.request = script
    return box, uplink.Uplink(box, "http://api/events", "k", "events", batch, 100, 1000), script


def _run(box, up, step=50, limit=200):
    t = 0
    for _ in range(limit):
        if not len(box):
            break
        up.service(t)
        t += step
    return t


def _seqs(script):
    return [[e["seq"] for e in b["events"]] for b in script.bodies]


def test_batches_leave_only_after_an_acknowledgement_and_keep_order():
    box, up, script = _setup("u1", [500, OSError(110), 200, 200])
    _run(box, up)
    assert _seqs(script) == [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [5]], _seqs(script)
    assert up.sent == 5 and up.failures == 0


def test_a_2xx_that_does_not_acknowledge_the_batch_keeps_it():
    def wrong_ids(request):
        answer = ack(request)
        answer["ids"] = answer["ids"][:-1]
        return answer

    def other_batch(request):
        answer = ack(request)
        answer["first_seq"] += 1
        return answer

    answers = [
        (200, b"<html>portal</html>", {"content-type": "text/html"}),
        (200, b"", {}),
        (200, b'{"accepted":', {}),  # truncated
        (200, b'{"ok": true}', {}),
        (201, b"[1, 2]", {}),
        (200, wrong_ids, {}),
        (200, other_batch, {}),
        (200, b"null", {}),
    ]
    box, up, script = _setup("u5", answers, n=4, batch=4)
    for t in range(len(answers)):
        assert not up.service(up.next_ms or 0)
        assert len(box) == 4 and up.failures == t + 1, (t, up.last_status)
    assert up.service(up.next_ms) and len(box) == 0
    assert all(s == [1, 2, 3, 4] for s in _seqs(script))


def test_backoff_is_exponential_capped_and_jittered():
    _, up, _ = _setup("u2", [500] * 10)
    delays = []
    for _ in range(6):
        up.failures += 1
        delays.append([up.backoff_ms() for _ in range(50)])
    for k, ds in enumerate(delays):
        full = min(1000, 100 << k)
        assert min(ds) >= full // 2 and max(ds) <= full, (k, min(ds), max(ds))
        assert len(set(ds)) > 1 or full < 4  # jitter
    assert max(delays[-1]) <= 1000


def test_no_retry_before_the_backoff_expires():
    box, up, script = _setup("u3", [500, 200])
    assert not up.service(0)
    wait = up.next_ms
    assert not up.service(wait - 1) and len(script.bodies) == 1
    assert up.service(wait) and len(box) == 1


def test_the_events_the_api_names_go_to_the_dead_letter_file_the_rest_are_sent():
    bad = {
        "error": "invalid_input",
        "message": "events[1].t_ms: too old",
        "errors": [
            {"index": 1, "field": "events[1].t_ms", "message": "too old"},
            {"index": 3, "field": "events[3].gesture", "message": "unknown"},
            {"index": 9, "field": "events[9].gesture", "message": "not in this batch"},
        ],
    }
    box, up, script = _setup("u4", [(400, json.dumps(bad).encode(), {})], n=5, batch=4)
    _run(box, up, step=10)
    assert _seqs(script) == [[1, 2, 3, 4], [1, 3, 5]], _seqs(script)
    assert up.rejected == 2 and box.dead == 2 and box.dropped == 0
    with open(box.dead_path) as f:
        dead = [json.loads(line) for line in f]
    assert [(d["seq"], d["status"], d["error"]["field"]) for d in dead] == [
        (2, 400, "events[1].t_ms"),
        (4, 400, "events[3].gesture"),
    ]
    assert [d["record"]["i"] for d in dead] == [1, 3]
    again = Outbox("u4", "events", 100)  # after a reboot: counted, nothing queued again
    assert again.dead == 2 and len(again) == 0


def test_without_per_event_errors_the_batch_is_halved_until_the_bad_one_is_alone():
    box, up, script = _setup("u6", [400, 400, 400, 200, 200, 200], n=4, batch=4)
    _run(box, up, step=10)
    seqs = _seqs(script)
    assert seqs[:3] == [[1, 2, 3, 4], [1, 2], [1]], seqs
    assert up.rejected == 1 and box.dead == 1 and box.dropped == 0
    assert [s for b in seqs[3:] for s in b] == [2, 3, 4], seqs


def test_a_4xx_that_is_not_the_api_error_body_keeps_everything():
    box, up, _ = _setup("u7", [(400, b"<h1>Bad Request</h1>", {}), (404, b"", {}), 200])
    assert not up.service(0) and not up.service(up.next_ms)
    assert len(box) == 5 and box.dead == 0 and up.failures == 2
    _run(box, up, step=1000)
    assert len(box) == 0 and box.dead == 0


def test_a_rejected_key_stops_the_route_and_keeps_everything():
    box, up, script = _setup("u8", [403, 200, 200])
    up.auth_retry_ms = 3_600_000
    assert not up.service(0)
    assert up.auth_rejected == 403 and up.auth_failures == 1 and len(box) == 5
    for t in (10, 60_000, 3_599_999):
        assert not up.service(t)
    assert len(script.bodies) == 1  # nothing sent until the auth retry period is over
    assert up.service(3_600_000) and up.auth_rejected is None


def test_retry_after_sets_the_least_wait():
    _, up, script = _setup(
        "u9", [(429, b"{}", {"retry-after": "7"}), (503, b"", {"retry-after": "x"})]
    )
    assert not up.service(0)
    assert up.last_wait_ms == 7000 and up.next_ms == 7000
    assert not up.service(6999) and len(script.bodies) == 1
    assert not up.service(7000)  # 503 with an unusable Retry-After: plain backoff
    assert up.last_wait_ms <= 200
    assert uplink._retry_after_ms("999999") == uplink.RETRY_AFTER_MAX_S * 1000
