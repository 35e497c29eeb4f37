"""Streaming gesture detector: raw 100 Hz samples in, debounced gesture events out.

Runs unchanged under CPython and MicroPython. Per capture sample it only updates counters and
the int16 ring (no allocation); every `hop` model-rate samples it computes the features, calls
the m2cgen model's `score(list) -> list` and feeds the probabilities to the debouncer.

    det = Detector(manifest, score)
    ev = det.push(ax, ay, az, gx, gy, gz)   # raw int16 counts
    # None, or (sample_index, class_name, score); sample_index counts pushed samples from 0
"""

from gesture.features import Features
from gesture.postprocess import Debouncer
from gesture.spec import CAPTURE_HZ
from gesture.window import RawWindow


class Detector:
    """Decimation, window, features, model and debouncer as the manifest describes them."""

    def __init__(self, manifest, score):
        capture_hz = manifest.get("capture_hz", CAPTURE_HZ)
        rate = manifest["rate_hz"]
        decimation = manifest["decimation"]
        if capture_hz != CAPTURE_HZ or rate * decimation != capture_hz:
            raise ValueError("rate_hz * decimation must equal capture_hz (100)")
        self.hop = int(manifest.get("hop", 1))
        if self.hop < 1:
            raise ValueError("hop must be >= 1")
        self.classes = tuple(manifest["classes"])
        self.window = RawWindow(manifest["window"], decimation)
        self.features = Features(manifest["features"], manifest["signals"], manifest["window"])
        self.debouncer = Debouncer(self.classes, manifest["postprocess"])
        self.score = score
        self._vector = self.features.new_vector()
        self.reset()

    def reset(self):
        """Start over: empty window, no run in progress, sample index back to 0."""
        self.window.reset()
        self.debouncer.reset()
        self._index = -1
        self._since_hop = 0  # inference once `hop` full windows have passed, then every hop
        self.last_proba = None
        self.inferences = 0

    def push(self, ax, ay, az, gx, gy, gz):
        """One 100 Hz sample of raw counts; returns an event tuple or None."""
        self._index += 1
        if not self.window.push(ax, ay, az, gx, gy, gz):
            return None
        if not self.window.full:
            return None
        self._since_hop += 1
        if self._since_hop < self.hop:
            return None
        self._since_hop = 0
        return self._infer()

    def _infer(self):
        self.features.fill(self.window, self._vector)
        proba = self.score(self._vector)
        self.last_proba = proba
        self.inferences += 1
        return self.debouncer.update(proba, self._index)
