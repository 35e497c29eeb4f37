"""Debouncer: turns per-window class scores into gesture events.

Runs unchanged under CPython and MicroPython, in integers: class scores are the model's votes,
`scale` votes meaning probability 1 (the manifest's `score_scale`). Parameters (manifest
`postprocess`, calibrated on validation streams by the training pipeline), counted in
inferences (one per hop):
  threshold_votes  a window is a hit when its top class is a gesture with at least this many
              votes (the calibrated probability `threshold` in the same scale, rounded up)
  min_hits    hits needed before an event fires (the original device used 9)
  max_gap     misses tolerated inside a run of hits
  refractory  inferences after an event during which no new event can start; after it, the
              run that fired must also end (one miss) before a new run counts
  time_offset 100 Hz samples subtracted from the mean window end of the hits: the event time
The event's class is the score-weighted vote of the run's hits; its score the mean
probability of that class over the hits (votes / scale).
"""


class Debouncer:
    """Feed `update(scores, end_index)` once per inference; returns an event tuple or None."""

    def __init__(self, classes, params, scale, idle_class="idle"):
        self.classes = tuple(classes)
        if idle_class not in self.classes:
            raise ValueError("classes must include " + repr(idle_class))
        self.idle = self.classes.index(idle_class)
        self.threshold = int(params["threshold_votes"])
        self.scale = int(scale)
        self.min_hits = int(params["min_hits"])
        self.max_gap = int(params.get("max_gap", 0))
        self.refractory = int(params.get("refractory", 0))
        self.time_offset = int(params.get("time_offset", 0))
        if self.min_hits < 1 or self.max_gap < 0 or self.refractory < 0 or self.scale < 1:
            raise ValueError("min_hits >= 1, max_gap >= 0, refractory >= 0, scale >= 1 required")
        self._votes = [0] * len(self.classes)
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
            votes[c] = 0

    def _clear_run(self):
        self._hits = 0
        self._gap = 0
        self._end_sum = 0
        votes = self._votes
        for c in range(len(votes)):
            votes[c] = 0

    def update(self, scores, end_index):
        """One inference: class scores and the capture index of the window's last sample."""
        top = max(scores)  # (C loops, no iterator allocated; the first class with the most)
        best = scores.index(top)
        if self._cooldown:
            self._cooldown -= 1
            return None
        if best == self.idle or top < self.threshold:
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
        self._votes[best] += top
        if self._hits < self.min_hits:
            return None
        return self._fire()

    def _fire(self):
        votes = self._votes
        winner = 0
        for c in range(1, len(votes)):
            if votes[c] > votes[winner]:
                winner = c
        score = votes[winner] / (self._hits * self.scale)
        index = self._end_sum // self._hits - self.time_offset
        self._clear_run()
        self._cooldown = self.refractory
        self._need_miss = True
        return (index if index > 0 else 0, self.classes[winner], score)
