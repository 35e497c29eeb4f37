"""Streaming gesture detector: raw 100 Hz samples in, debounced gesture events out.

Runs unchanged under CPython and MicroPython, in integers. Per capture sample it only updates
counters, the int16 window and the running stats (no allocation); every `hop` model-rate
samples it finishes the stats, calls the exported model and feeds its class scores to the
debouncer. The model (m2cgen, integer-transformed at export, see training/export.py) is

    score(w, b, f, out)  # w: window buffer, b: its oldest offset, f: stats, out: class scores

and writes integer votes into `out` (their sum is the manifest's `score_scale`). It reads time
point k of signal s at `w[b + s * 2 * window + k]`; the detector passes the buffer already seen
from the oldest sample (`RawWindow.views[oldest]`) and b = 0, which models exported since read
at fixed positions (`w[k]`, no add per split; called with b != 0 they take the view themselves).

    det = Detector(manifest, score)
    ev = det.push(ax, ay, az, gx, gy, gz)   # raw int16 counts
    # None, or (sample_index, class_name, score); sample_index counts pushed samples from 0
"""

from gesture.features import Features
from gesture.postprocess import Debouncer
from gesture.spec import CAPTURE_HZ
from gesture.window import RawWindow

MODEL_SCHEMA = 2  # manifests of integer models; schema 1 models scored float lists


class Detector:
    """Decimation, window, features, model and debouncer as the manifest describes them."""

    def __init__(self, manifest, score):
        if manifest.get("schema", 1) < MODEL_SCHEMA or "score_scale" not in manifest:
            raise ValueError("model schema 1 (float features) is not supported: retrain it")
        capture_hz = manifest.get("capture_hz", CAPTURE_HZ)
        rate = manifest["rate_hz"]
        decimation = manifest["decimation"]
        if capture_hz != CAPTURE_HZ or rate * decimation != capture_hz:
            raise ValueError("rate_hz * decimation must equal capture_hz (100)")
        self.hop = int(manifest.get("hop", 1))
        if self.hop < 1:
            raise ValueError("hop must be >= 1")
        self.classes = tuple(manifest["classes"])
        self.scale = int(manifest["score_scale"])
        self.window = RawWindow(manifest["window"], decimation)
        self.features = Features(manifest["features"], manifest["signals"], self.window)
        self.debouncer = Debouncer(self.classes, manifest["postprocess"], self.scale)
        self.score = score
        self.scores = [0] * len(self.classes)  # the model writes its votes here
        self._running = self.features.running
        self._finish = self.features.finishing  # fill() has stats to finish per inference
        self.reset()

    def reset(self):
        """Start over: empty window, no run in progress, sample index back to 0."""
        self.window.reset()
        self.features.reset()
        self.debouncer.reset()
        self._index = -1
        self._since_hop = 0  # inference once `hop` full windows have passed, then every hop
        self.last_proba = None  # the last inference's class scores (self.scores), once one ran
        self.inferences = 0

    def push(self, ax, ay, az, gx, gy, gz):
        """One 100 Hz sample of raw counts; returns an event tuple or None."""
        self._index += 1
        window = self.window
        if not window.push(ax, ay, az, gx, gy, gz):
            return None
        if self._running:
            self.features.update(window)
        if not window.full:
            return None
        self._since_hop += 1
        if self._since_hop < self.hop:
            return None
        self._since_hop = 0
        return self._infer()

    def _infer(self):
        window = self.window
        scores = self.scores
        features = self.features
        stats = features.fill(window) if self._finish else features.vector
        self.score(window.views[window.oldest], 0, stats, scores)
        self.last_proba = scores
        self.inferences += 1
        return self.debouncer.update(scores, self._index)

    def check(self):
        """Score the current window once; raise unless the model gives one vote count per class
        adding up to the manifest's scale (a model for other classes or another export)."""
        scores = self.scores
        for c in range(len(scores)):
            scores[c] = -1
        window = self.window
        out = self.score(window.views[window.oldest], 0, self.features.vector, scores)
        if out is not scores or min(scores) < 0 or sum(scores) != self.scale:
            raise ValueError("model scores do not match the manifest's classes and scale")
        return scores
