"""Uplink batching, backoff and rejection with a scripted HTTP layer (under micropython)."""

import json

from gesture import httpclient, uplink
from gesture.outbox import Outbox


class _Script:
    def __init__(self, answers):
        self.answers = list(answers)
        self.bodies = []

    def __call__(self, method, url, body=None, headers=None, timeout=10, sink=None):
        self.bodies.append(json.loads(body))
        answer = self.answers.pop(0) if self.answers else 200
        if isinstance(answer, Exception):
            raise answer
        return httpclient.Response(answer, {}, b"{}")


def _setup(name, answers, n=5, batch=4):
    box = Outbox(name, "events", 100, seq_field="seq")
    for i in range(n):
        box.put({"i": i})
    script = _Script(answers)
    uplink.httpclient.request = script
    return box, uplink.Uplink(box, "http://api/events", "k", "events", batch, 100, 1000), script


def test_batches_leave_only_after_2xx_and_keep_order():
    box, up, script = _setup("u1", [500, OSError(110), 200, 200])
    t = 0
    while len(box):
        up.service(t)
        t += 50
    seqs = [[e["seq"] for e in b["events"]] for b in script.bodies]
    assert seqs == [[1, 2, 3, 4], [1, 2, 3, 4], [1, 2, 3, 4], [5]], seqs
    assert up.sent == 5 and up.failures == 0


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


def test_rejected_batch_is_halved_until_the_bad_record_is_alone_then_dropped():
    box, up, script = _setup("u4", [400, 400, 400, 200, 200, 200], n=4, batch=4)
    t = 0
    while len(box):
        up.service(t)
        t += 10
    seqs = [[e["seq"] for e in b["events"]] for b in script.bodies]
    assert seqs[:3] == [[1, 2, 3, 4], [1, 2], [1]], seqs
    assert up.rejected == 1 and box.dropped == 1
    delivered = [s for b in seqs[3:] for s in b]
    assert delivered == [2, 3, 4], seqs
    assert Outbox("u4", "events", 100).dropped == 1
