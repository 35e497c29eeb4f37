"""A new model proves itself before it is trusted, and a model error never stops the loop.

`Scorer` wraps a model's `score(w, b, f, out)` for the Detector: every answer is checked (the
`out` list it was given, one vote count per class adding up to the model's scale) and timed,
without allocating. A call that raises or answers something malformed counts in `errors` and
is replaced by "idle" (all votes to idle: no event can come of it); a call over `budget_ms`
counts in `slow`.
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
    """The model's answer is not one vote count per class adding up to its scale."""


def check_scores(answer, scores, scale):
    """Raise ModelFault unless the model returned `scores` (the list it was given to fill)
    holding non-negative integer votes that add up to `scale`. Allocates nothing unless it
    raises."""
    if answer is not scores:
        raise ModelFault("score() did not fill and return its scores list")
    total = 0
    for v in scores:
        if type(v) is not int or v < 0:  # bool, float, NaN, None...: not a vote count
            raise ModelFault("score() wrote " + repr(v))
        total += v
    if total != scale:
        raise ModelFault(f"score() gave {total} votes, not {scale}")


class Scorer:
    """`score(w, b, f, out)` for the Detector, guarded and timed (see the module docstring)."""

    def __init__(self, score, classes, budget_ms, probation=0, scale=1):
        self.score = score
        self.scale = scale
        self.budget_us = int(budget_ms * 1000)
        self.probation = probation  # inferences still to pass; 0 = trusted
        self.on_probation = probation > 0
        self.errors = 0
        self.slow = 0
        self.inferences = 0
        self.failed = None
        self.last_error = None
        self.idle = list(classes).index("idle")

    def __call__(self, w, b, f, out):
        t0 = time.ticks_us()
        try:
            check_scores(self.score(w, b, f, out), out, self.scale)
        except Exception as exc:  # the model's fault, whatever it is: count it, go on
            self.errors += 1
            self.last_error = repr(exc)
            self._judge("error " + self.last_error)
            for c in range(len(out)):
                out[c] = 0
            out[self.idle] = self.scale
            return out
        fault = None
        if time.ticks_diff(time.ticks_us(), t0) > self.budget_us:
            self.slow += 1
            if self.slow > SLOW_ALLOWED:
                fault = f"slow: {self.slow} inferences over {self.budget_us // 1000} ms"
        self._judge(fault)
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
