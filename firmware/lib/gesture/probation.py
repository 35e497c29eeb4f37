"""A new model proves itself before it is trusted, and a model error never stops the loop.

`Scorer` wraps a model's `score()` for the Detector: every answer is checked (one finite number
per class) and timed. A call that raises or answers something malformed counts in `errors` and
is replaced by "idle" (no event can come of it); a call over `budget_ms` counts in `slow`.
While `probation` inferences remain, the first fault, or more than SLOW_ALLOWED slow calls,
sets `failed` (the reason) and the app goes back to the previous model.

`Trial` is what flash remembers across resets (`<model_dir>.trial.json`): the version being
tried ("trying", written before its first import and cleared when its probation passes, so a
board reset in between, e.g. by the watchdog on a hanging import, counts against it) and the
versions that failed, which are never installed again (the newest MAX_BAD are kept).
"""

import json
import time

from gesture import storage

MAX_BAD = 8
SLOW_ALLOWED = 2  # slow calls forgiven during probation (a GC pause, a flash write)


class ModelFault(ValueError):
    """The model's answer is not one finite number per class."""


_INF = float("inf")
_NINF = -_INF


def check_scores(proba, n_classes):
    """Raise ModelFault unless `proba` is a list or tuple of `n_classes` finite numbers.
    Allocates nothing for integer scores (isinstance with one type: no tuple built)."""
    if not (isinstance(proba, list) or isinstance(proba, tuple)):  # noqa: SIM101
        raise ModelFault("score() returned " + type(proba).__name__)
    if len(proba) != n_classes:
        raise ModelFault(f"model gives {len(proba)} scores for {n_classes} classes")
    for v in proba:
        if isinstance(v, bool) or not (isinstance(v, int) or isinstance(v, float)):  # noqa: SIM101
            raise ModelFault("score() returned a " + type(v).__name__)
        if v != v or v == _INF or v == _NINF:  # noqa: SIM109 (a tuple would be allocated)
            raise ModelFault("score() returned " + repr(v))


class Scorer:
    """The model's `score` for the Detector, guarded and timed (see the module docstring).

    Either export shape: `score(vector) -> list` (float models), or `score(w, b, f, out)`
    writing one vote per class into `out` (integer models, whose votes add up to `scale`)."""

    def __init__(self, score, classes, budget_ms, probation=0, scale=1):
        self.score = score
        self.n = len(classes)
        self.budget_us = int(budget_ms * 1000)
        self.probation = probation  # inferences still to pass; 0 = trusted
        self.on_probation = probation > 0
        self.errors = 0
        self.slow = 0
        self.inferences = 0
        self.failed = None
        self.last_error = None
        self.idle = list(classes).index("idle")
        self.scale = scale
        self._idle = [0] * self.n
        self._idle[self.idle] = scale

    def __call__(self, x, b=None, f=None, out=None):
        t0 = time.ticks_us()
        try:
            if out is None:
                proba = self.score(x)
            else:
                self.score(x, b, f, out)
                proba = out
            check_scores(proba, self.n)
        except Exception as exc:  # the model's fault, whatever it is: count it, go on
            self.errors += 1
            self.last_error = repr(exc)
            self._judge("error " + self.last_error)
            return self._answer_idle(out)
        fault = None
        if time.ticks_diff(time.ticks_us(), t0) > self.budget_us:
            self.slow += 1
            if self.slow > SLOW_ALLOWED:
                fault = f"slow: {self.slow} inferences over {self.budget_us // 1000} ms"
        self._judge(fault)
        return proba

    def _answer_idle(self, out):
        """All on "idle" (no class can reach a threshold): in `out` if the model writes there."""
        if out is None:
            return self._idle
        while len(out) > self.n:  # the Detector's own list: give it back its length
            out.pop()
        while len(out) < self.n:
            out.append(0)
        for c in range(self.n):
            out[c] = 0
        out[self.idle] = self.scale
        return out

    def _judge(self, fault):
        self.inferences += 1
        if not self.probation or self.failed:
            return
        if fault is not None:
            self.failed = fault
        else:
            self.probation -= 1

    @property
    def passed(self):
        """True once a model that was on probation has passed it."""
        return self.on_probation and not self.probation and not self.failed


class Trial:
    """The version on trial and the rejected versions, on flash (see the module docstring)."""

    def __init__(self, model_dir):
        self.path = model_dir + ".trial.json"
        self.trying = None
        self.bad = []
        try:
            with open(self.path) as f:
                state = json.load(f)
            self.trying = state.get("trying")
            self.bad = list(state.get("bad", ()))
        except (OSError, ValueError, AttributeError):  # none yet, or unreadable: start clean
            pass

    def _save(self):
        storage.write_atomic(self.path, json.dumps({"trying": self.trying, "bad": self.bad}))

    def is_bad(self, version):
        return version in self.bad

    def begin(self, version):
        """Persist "trying `version`" before it is first imported."""
        self.trying = version
        self._save()

    def passed(self):
        self.trying = None
        self._save()

    def reject(self, version):
        """Remember `version` as bad (never installed again); ends its trial."""
        if version not in self.bad:
            self.bad.append(version)
            self.bad = self.bad[-MAX_BAD:]
        self.trying = None
        self._save()
