"""Feature vector of one window, shared by the device and the training pipeline.

Runs unchanged under CPython and MicroPython. The manifest's `features` spec says what goes in:
  {"time_points": true, "stats": ["mean", "std", "min", "max", "absdiff"]}
Order: time points first, time-major like the seed CSVs (acc_x_0, acc_y_0, ..., gyro_z_1000),
then for each signal its stats in spec order (acc_x_mean, acc_x_std, ...). Values are SI
(m/s^2, deg/s) converted from raw counts; `absdiff` is the mean |x[k+1] - x[k]|.
"""

from gesture import units

STATS = ("mean", "std", "min", "max", "absdiff")


def _signal_indices(signals):
    try:
        return tuple(units.SIGNALS.index(s) for s in signals)
    except ValueError:
        raise ValueError("unknown signal in " + repr(signals)) from None


def feature_names(spec, signals, window, rate_hz):
    """Names of the features in vector order (time points are named by ms in the window)."""
    _signal_indices(signals)
    names = []
    if spec.get("time_points", True):
        step = 1000 // rate_hz
        for k in range(window):
            for s in signals:
                names.append(s + "_" + str(k * step))
    for s in signals:
        for stat in spec.get("stats", ()):
            names.append(s + "_" + stat)
    return names


class Features:
    """Fills a preallocated feature list from a full RawWindow."""

    def __init__(self, spec, signals, window):
        self.time_points = bool(spec.get("time_points", True))
        self.stats = tuple(spec.get("stats", ()))
        for stat in self.stats:
            if stat not in STATS:
                raise ValueError("unknown stat " + repr(stat))
        self.codes = tuple(STATS.index(stat) for stat in self.stats)
        if not self.time_points and not self.stats:
            raise ValueError("feature spec selects nothing")
        self.signals = _signal_indices(signals)
        self.window = window
        self.scales = tuple(units.SI_PER_LSB[s] for s in self.signals)
        self.size = len(self.signals) * ((window if self.time_points else 0) + len(self.stats))

    def new_vector(self):
        """A feature list of the right size, to allocate once and reuse."""
        return [0.0] * self.size

    def fill(self, raw, out):
        """Write the features of RawWindow `raw` into `out` (a list of self.size floats)."""
        buf = raw.buffer
        n = self.window
        wrap = n * 6
        start = raw.oldest * 6
        signals = self.signals
        scales = self.scales
        nsig = len(signals)
        i = 0
        if self.time_points:
            row = start
            for _ in range(n):
                for j in range(nsig):
                    out[i] = buf[row + signals[j]] * scales[j]
                    i += 1
                row += 6
                if row >= wrap:
                    row = 0
        if self.stats:
            for j in range(nsig):
                i = self._fill_stats(buf, start, wrap, signals[j], scales[j], out, i)
        return out

    def _fill_stats(self, buf, start, wrap, s, scale, out, i):
        n = self.window
        prev = buf[start + s]
        total = 0
        total_sq = 0
        lo = prev
        hi = prev
        diff = 0
        # oldest..end of the ring, then its start..newest: no wrap test per sample
        for first, stop in ((start + s, wrap), (s, start + s)):
            for pos in range(first, stop, 6):
                v = buf[pos]
                total += v
                total_sq += v * v
                if v < lo:
                    lo = v
                elif v > hi:
                    hi = v
                diff += v - prev if v >= prev else prev - v
                prev = v
        mean = total / n
        for code in self.codes:
            if code == 0:
                out[i] = mean * scale
            elif code == 1:
                var = total_sq / n - mean * mean
                out[i] = (var if var > 0 else 0.0) ** 0.5 * scale
            elif code == 2:
                out[i] = lo * scale
            elif code == 3:
                out[i] = hi * scale
            else:
                out[i] = diff / (n - 1) * scale
            i += 1
        return i
