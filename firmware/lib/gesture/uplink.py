"""Delivers an Outbox to the API in batches: POST with the device key, exponential backoff with
jitter while the network or API fails, records removed only after a 2xx answer.

A 4xx that says the request itself is wrong (400, 404, 413, 422) cannot succeed on retry: the
batch is halved to isolate the bad record, and a single rejected record is removed and counted
in `rejected` (and the outbox's `dropped`) so it cannot block the queue forever. Other failures
(network, timeouts, 5xx, 401/403/408/429) keep everything and back off.
"""

import random
import time

from gesture import httpclient

REJECTED = (400, 404, 413, 422)


class Uplink:
    """Sends `outbox` to `url` as `{"<field>": [records...]}`, or one bare record a request when
    `field` is None; call `service(now_ms)` often."""

    def __init__(
        self,
        outbox,
        url,
        api_key,
        field=None,
        batch_size=20,
        base_ms=500,
        max_ms=60000,
        session=None,
    ):
        self.outbox = outbox
        self.session = session  # an httpclient.Session to reuse connections, or None
        self.url = url
        self.field = field
        self.headers = {"x-api-key": api_key, "Content-Type": "application/json"}
        self.batch_size = batch_size if field else 1
        self.base_ms = base_ms
        self.max_ms = max_ms
        self.timeout_s = 5
        self.failures = 0  # consecutive
        self.next_ms = None
        self.last_status = None
        self.sent = 0
        self.rejected = 0
        self._size = self.batch_size  # shrinks while isolating a rejected record

    def backoff_ms(self):
        """Delay after `failures` consecutive failures: exponential, capped, half jittered."""
        delay = min(self.max_ms, self.base_ms << min(self.failures - 1, 16))
        return delay // 2 + random.randint(0, delay // 2)

    def due(self, now_ms):
        return len(self.outbox) > 0 and (
            self.next_ms is None or time.ticks_diff(now_ms, self.next_ms) >= 0
        )

    def service(self, now_ms):
        """Send one batch if one is queued and the backoff allows; True if a batch was delivered."""
        if not self.due(now_ms):
            return False
        items = self.outbox.batch(self._size)
        if self.field:
            body = b'{"' + self.field.encode() + b'":[' + b",".join(items) + b"]}"
        else:
            body = items[0]
        try:
            send = self.session.request if self.session else httpclient.request
            resp = send("POST", self.url, body, self.headers, timeout=self.timeout_s)
            self.last_status = resp.status
            ok = resp.ok
        except (OSError, ValueError) as exc:  # network, timeout, or not an HTTP answer
            self.last_status = f"error {exc!r}"
            ok = False
        if ok:
            self.outbox.ack(len(items))
            self.sent += len(items)
            self.failures = 0
            self.next_ms = None
            self._size = min(self.batch_size, self._size * 2)
            return True
        if self.last_status in REJECTED:
            self._reject(len(items))
            return False
        self.failures += 1
        self.next_ms = time.ticks_add(now_ms, self.backoff_ms())
        return False

    def _reject(self, n):
        if n > 1:
            self._size = max(1, n // 2)
            return
        self.outbox.discard(1)
        self.rejected += 1
