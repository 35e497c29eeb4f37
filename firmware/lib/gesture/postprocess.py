"""Debouncer: turns per-window class probabilities into gesture events.

Runs unchanged under CPython and MicroPython. Parameters (manifest `postprocess`, calibrated on
validation streams by the training pipeline), counted in inferences (one per hop):
  threshold   a window is a hit when its top class is a gesture with probability >= threshold
  min_hits    hits needed before an event fires (the original device used 9)
  max_gap     misses tolerated inside a run of hits
  refractory  inferences after an event during which no new event can start; after it, the
              run that fired must also end (one miss) before a new run counts
  time_offset 100 Hz samples subtracted from the mean window end of the hits: the event time
The event's class is the probability-weighted vote of the run's hits; its score the mean
probability of that class over the hits.
"""


class Debouncer:
    """Feed `update(proba, end_index)` once per inference; returns an event tuple or None."""

    def __init__(self, classes, params, idle_class="idle"):
        self.classes = tuple(classes)
        if idle_class not in self.classes:
            raise ValueError("classes must include " + repr(idle_class))
        self.idle = self.classes.index(idle_class)
        self.threshold = float(params["threshold"])
        self.min_hits = int(params["min_hits"])
        self.max_gap = int(params.get("max_gap", 0))
        self.refractory = int(params.get("refractory", 0))
        self.time_offset = int(params.get("time_offset", 0))
        if self.min_hits < 1 or self.max_gap < 0 or self.refractory < 0:
            raise ValueError("min_hits >= 1, max_gap >= 0 and refractory >= 0 are required")
        self._votes = [0.0] * len(self.classes)
        self.reset()

    def reset(self):
        """Forget any run in progress and any refractory time."""
        self._hits = 0
        self._gap = 0
        self._end_sum = 0
        self._cooldown = 0
        self._need_miss = False
        votes = self._votes
        for c in range(len(votes)):
            votes[c] = 0.0

    def _clear_run(self):
        self._hits = 0
        self._gap = 0
        self._end_sum = 0
        votes = self._votes
        for c in range(len(votes)):
            votes[c] = 0.0

    def update(self, proba, end_index):
        """One inference: class probabilities and the capture index of the window's last sample."""
        best = 0
        for c in range(1, len(proba)):
            if proba[c] > proba[best]:
                best = c
        if self._cooldown:
            self._cooldown -= 1
            return None
        if best == self.idle or proba[best] < self.threshold:
            self._need_miss = False
            if self._hits:
                self._gap += 1
                if self._gap > self.max_gap:
                    self._clear_run()
            return None
        if self._need_miss:
            return None
        self._gap = 0
        self._hits += 1
        self._end_sum += end_index
        self._votes[best] += proba[best]
        if self._hits < self.min_hits:
            return None
        return self._fire()

    def _fire(self):
        votes = self._votes
        winner = 0
        for c in range(1, len(votes)):
            if votes[c] > votes[winner]:
                winner = c
        score = votes[winner] / self._hits
        index = self._end_sum // self._hits - self.time_offset
        self._clear_run()
        self._cooldown = self.refractory
        self._need_miss = True
        return (index if index > 0 else 0, self.classes[winner], score)
