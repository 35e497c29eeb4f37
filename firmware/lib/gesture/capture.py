"""Capture mode: raw 100 Hz windows around detections and near-misses, queued for POST /samples
so they can be labelled and used for retraining; or, with a label (recording examples of a
gesture, perhaps one no model knows yet), a window at each motion onset labelled so."""

from gesture import units
from gesture.spec import CAPTURE_HZ, STEP_MS

MOTION_COUNTS = 60 * units.GYRO_LSB_PER_DPS  # |gx|+|gy|+|gz| of a motion onset (60 deg/s)


class Capture:
    """Schedules windows at detections / near-misses and copies them out of the ring when the
    samples after the trigger have arrived; `poll()` returns a SampleWindow record or None."""

    def __init__(self, ring, pre_ms, post_ms, near_miss, min_gap_ms=2000):
        self.ring = ring
        self.pre = pre_ms // STEP_MS
        self.post = post_ms // STEP_MS
        if self.pre + self.post > ring.capacity // 2:
            raise ValueError("capture window must fit in half the ring")
        self.near_miss = near_miss
        self.min_gap = min_gap_ms // STEP_MS
        self.pending = None  # (start_index, label, reason, model_version)
        self._last_trigger = -self.min_gap
        self.captured = 0
        self.missed = 0
        self.label = None  # set: manual labelling, windows at motion onsets (check_motion)
        self._one = [0] * 6  # one sample, reused

    def trigger(self, index, label, reason, model_version):
        """Ask for a window around sample `index`. A detection always gets its window (it
        replaces a pending near-miss: the run that looked like a miss became an event);
        a near-miss is ignored while a window is pending or within min_gap of the last one."""
        pending = self.pending
        if reason == "detection":
            if pending is not None and pending[2] == "detection":
                return
        elif pending is not None or index - self._last_trigger < self.min_gap:
            return
        self._last_trigger = index
        self.pending = (max(0, index - self.pre), label, reason, model_version)

    def check_motion(self, index, model_version):
        """Manual labelling: when sample `index` moves (gyro), a window labelled `self.label`
        from post_ms before it, pre_ms + post_ms long (the gesture follows its onset)."""
        if self.pending is not None or index - self._last_trigger < self.min_gap:
            return
        if not self.ring.available(index):
            return
        s = self.ring.copy_window(index, 1, self._one)
        if abs(s[3]) + abs(s[4]) + abs(s[5]) >= MOTION_COUNTS:
            self._last_trigger = index
            self.pending = (max(0, index - self.post), self.label, "manual", model_version)

    def check_near_miss(self, index, scores, classes, model_version, scale=1):
        """Trigger on an inference whose best gesture has a probability (scores / scale: the
        model's votes) >= near_miss but gave no event."""
        best, label = 0, None
        for i, p in enumerate(scores):
            if classes[i] != "idle" and p > best:
                best, label = p, classes[i]
        if label is not None and best >= self.near_miss * scale:
            self.trigger(index, label, "near_miss", model_version)

    def poll(self, t0_ms):
        """The pending window as a record once its last sample is in, else None."""
        if self.pending is None:
            return None
        start, label, reason, version = self.pending
        end = start + self.pre + self.post
        if self.ring.written < end:
            return None
        self.pending = None
        if not self.ring.available(start):
            self.missed += 1
            return None
        flat = self.ring.copy_window(start, end - start, [0] * (6 * (end - start)))
        self.captured += 1
        return {
            "t_ms": t0_ms + start * STEP_MS,
            "rate_hz": CAPTURE_HZ,
            "units": "raw",
            "signals": list(units.SIGNALS),
            "values": [flat[i : i + 6] for i in range(0, len(flat), 6)],
            "label": label,
            "reason": reason,
            "model_version": version,
        }
