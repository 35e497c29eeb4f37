"""Delivers an Outbox to the API in batches: POST with the device key, exponential backoff with
jitter while the network or the API fails. Only a real acknowledgement removes a record.

What each answer does:
- 2xx whose JSON body acknowledges exactly this batch (events: `accepted`, `first_seq`,
  `last_seq` and `ids` equal to what was sent; one-record routes: a JSON object naming the
  `device_id`): the batch is removed. Any other 2xx (a captive portal's HTML page, an empty or
  truncated body, another server's JSON) keeps it and backs off like a failure.
- 400/413/422 with the API's JSON error body: the events it names in `errors` (by index) go to
  the outbox's dead-letter file, the rest stay queued and go again at once; without per-event
  errors the batch is halved until the bad record is alone, then that one is set aside.
  A 4xx without the API's JSON body is not our API: kept, backoff.
- 401/403: the key was rejected. Nothing is removed and the route stops: it is tried again only
  after `auth_retry_ms` (a fixed key needs a new config, i.e. a reboot, or the cloud to restore
  the key). `auth_failures` counts it for telemetry and the app says so on the console.
- 429/503: backoff, but never less than the answer's `Retry-After` (seconds, capped at
  RETRY_AFTER_MAX_S).
- Anything else (3xx, 404, 5xx, network errors, timeouts, malformed HTTP): kept, backoff.
"""

import json
import random
import time

from gesture import httpclient

INVALID = (400, 413, 422)
AUTH = (401, 403)
RETRY_AFTER = (429, 503)
RETRY_AFTER_MAX_S = 3600


def _json(body):
    try:
        return json.loads(body)
    except (ValueError, TypeError):  # not JSON, not text, truncated
        return None


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
        auth_retry_ms=3600000,
    ):
        self.outbox = outbox
        self.session = session  # an httpclient.Session to reuse connections, or None
        self.url = url
        self.field = field
        self.headers = {"x-api-key": api_key, "Content-Type": "application/json"}
        self.batch_size = batch_size if field else 1
        self.base_ms = base_ms
        self.max_ms = max_ms
        self.auth_retry_ms = auth_retry_ms
        self.timeout_s = 5
        self.failures = 0  # consecutive
        self.next_ms = None
        self.last_status = None
        self.last_wait_ms = 0
        self.sent = 0
        self.rejected = 0  # records set aside in the dead-letter file
        self.auth_failures = 0  # 401/403 answers
        self.auth_rejected = None  # the 401/403 status while the route is stopped
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
        except (OSError, ValueError) as exc:  # network, timeout, or not an HTTP answer
            self.last_status = f"error {exc!r}"
            return self._retry_later(now_ms)
        status = self.last_status = resp.status
        answer = _json(resp.body) if resp.body else None
        if 200 <= status < 300:
            if self._acknowledges(answer, items):
                return self._delivered(len(items))
            self.last_status = f"{status} without an acknowledgement"
            return self._retry_later(now_ms)
        if status in AUTH:
            self.auth_failures += 1
            self.auth_rejected = status
            self.failures += 1
            self.last_wait_ms = self.auth_retry_ms
            self.next_ms = time.ticks_add(now_ms, self.auth_retry_ms)
            return False
        if status in INVALID and isinstance(answer, dict) and "error" in answer:
            self._set_aside(status, answer, len(items))
            return False
        wait = 0
        if status in RETRY_AFTER:
            wait = _retry_after_ms(resp.headers.get("retry-after"))
        return self._retry_later(now_ms, wait)

    def _acknowledges(self, answer, items):
        if not isinstance(answer, dict):
            return False
        if not self.field:
            return "device_id" in answer
        records = [json.loads(item) for item in items]
        ids = [r["id"] for r in records if "id" in r]
        return (
            answer.get("accepted") == len(records)
            and answer.get("first_seq") == records[0].get("seq")
            and answer.get("last_seq") == records[-1].get("seq")
            and answer.get("ids", []) == ids
        )

    def _delivered(self, n):
        self.outbox.ack(n)
        self.sent += n
        self.failures = 0
        self.next_ms = None
        self.auth_rejected = None
        self._size = min(self.batch_size, self._size * 2)
        return True

    def _retry_later(self, now_ms, at_least_ms=0):
        self.failures += 1
        self.last_wait_ms = max(self.backoff_ms(), at_least_ms)
        self.next_ms = time.ticks_add(now_ms, self.last_wait_ms)
        return False

    def _set_aside(self, status, answer, n):
        """Dead-letter the records the API named; isolate by halving when it named none."""
        self.auth_rejected = None
        errors = {}
        for err in answer.get("errors") or ():
            index = err.get("index") if isinstance(err, dict) else None
            if isinstance(index, int) and 0 <= index < n:
                errors[index] = err
        if not errors:
            if n > 1:
                self._size = max(1, n // 2)
                return
            errors = {0: {"index": 0, "message": answer.get("message")}}
        self.rejected += self.outbox.set_aside(list(errors), status, errors)
        self.failures = 0
        self.next_ms = None


def _retry_after_ms(value):
    """Retry-After in ms (delay-seconds form; an HTTP date or garbage counts as absent)."""
    try:
        seconds = int(value)
    except (TypeError, ValueError):
        return 0
    return max(0, min(seconds, RETRY_AFTER_MAX_S)) * 1000
