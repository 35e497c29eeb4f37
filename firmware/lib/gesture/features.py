"""Integer features of one window, shared by the device and the training pipeline.

Runs unchanged under CPython and MicroPython. The manifest's `features` spec says what goes in:
  {"time_points": true, "stats": ["mean", "std", "min", "max", "absdiff"]}
Order: time points first, time-major like the seed CSVs (acc_x_0, acc_y_0, ..., gyro_z_1000),
then for each signal its stats in spec order (acc_x_mean, acc_x_std, ...). Every feature is an
integer in raw int16 counts (training uses the same integers, so thresholds are exact):
  time point  the count
  mean        the window's sum of counts (window length x mean)
  std         isqrt(ceil(n x variance)) of the counts shifted right by `std_shift(n)`: about
              sqrt(n) x the standard deviation, so linear in it (a variance would square the
              scale, and extra trees, which cut uniformly between a feature's extremes, would
              spend their cuts where few windows are); the sum of squares behind it stays a
              small int on 32-bit ports for any int16 input (n x (32768 >> shift)^2 < 2^30);
              on the device Newton starts from the last window's root (a few steps)
  min, max    the smallest / largest count
  absdiff     the sum of |x[k+1] - x[k]| over the window
Time points are not copied: the model reads them from the window buffer (gesture.window).
The stats are kept up to date as samples enter and leave the window (`update`, once per kept
sample): sums by adding the new and subtracting the evicted sample, min/max by blocks of one
window length (prefix extremes of the current block, suffix extremes of the previous one), so
an inference costs the same whatever the window length, and nothing is allocated.
"""

from array import array

from gesture import units

try:
    from micropython import const
except ImportError:

    def const(x):
        return x


STATS = ("mean", "std", "min", "max", "absdiff")
SMALL_INT_MAX = const(0x3FFFFFFF)  # 2**30 - 1: largest small int on 32-bit ports


def std_shift(n):
    """Bits dropped from each count before squaring, for a window of n samples."""
    if n < 2:
        raise ValueError("window length must be >= 2")
    shift = 0
    while n * (1 << (30 - 2 * shift)) > SMALL_INT_MAX:  # (-32768 >> s)^2 = 2^(30 - 2s)
        shift += 1
    return shift


def isqrt(v, guess=0):
    """The largest integer whose square is <= v (0 for v <= 0): Newton's method in integers.
    A positive `guess` (the last window's root: the spread changes little from hop to hop)
    only saves steps: one Newton step from any positive x lands at or above the root, and from
    there the steps go down to it, so the answer is the same for every guess."""
    if v <= 0:
        return 0
    if guess > 0:
        x = (guess + v // guess) >> 1  # >= isqrt(v): (g + v/g) / 2 >= sqrt(v), floors kept
    else:
        x, t = 1, v
        while t:  # x = 2^ceil(bits / 2) > sqrt(v): Newton from above
            t >>= 2
            x <<= 1
    while True:
        y = (x + v // x) >> 1
        if y >= x:
            return x
        x = y


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
    """Integer stats of a RawWindow in a preallocated list `vector` (see the module doc)."""

    def __init__(self, spec, signals, window):
        self.time_points = bool(spec.get("time_points", True))
        self.stats = tuple(spec.get("stats", ()))
        for stat in self.stats:
            if stat not in STATS:
                raise ValueError("unknown stat " + repr(stat))
        if not self.time_points and not self.stats:
            raise ValueError("feature spec selects nothing")
        self.signals = _signal_indices(signals)
        self.window = window
        n = self.n = window.length
        self.shift = std_shift(n)
        nsig = len(self.signals)
        self.n_time = nsig * n if self.time_points else 0
        self.size = self.n_time + nsig * len(self.stats)
        self.vector = [0] * (nsig * len(self.stats))  # the stats part; what the model reads
        mean, std, lo, hi, diff, ext = [], [], [], [], [], []
        for j, s in enumerate(self.signals):
            o = s * window.block
            for k, stat in enumerate(self.stats):
                i = j * len(self.stats) + k
                if stat == "mean":
                    mean.append((i, s, o))
                elif stat == "std":
                    std.append((len(std), i, s, o))  # (accumulator, out index, signal, offset)
                elif stat == "absdiff":
                    diff.append((i, s, o))
                elif stat == "min":
                    lo.append((len(ext), i))
                else:
                    hi.append((len(ext), i))
            if "min" in self.stats or "max" in self.stats:
                ext.append((len(ext), len(ext) * n, o))  # (index, suffix base, offset)
        self._mean, self._diff = tuple(mean), tuple(diff)
        self._std = tuple((j, s, o) for j, _, s, o in std)
        self._std_out = tuple((j, i) for j, i, _, _ in std)
        self._min, self._max, self._ext = tuple(lo), tuple(hi), tuple(ext)
        self._sum = [0] * len(std)  # sum of shifted counts, per std signal
        self._sq = [0] * len(std)  # sum of their squares
        self._root = [0] * len(std)  # the last std feature: isqrt's guess for the next one
        self._pre_lo = [0] * len(ext)  # extremes of the current block so far
        self._pre_hi = [0] * len(ext)
        self._suf_lo = array("h", bytes(2 * n * len(ext)))  # suffix extremes, previous block
        self._suf_hi = array("h", bytes(2 * n * len(ext)))
        self.running = bool(self.stats)  # update() has work to do
        self.finishing = bool(std or ext)  # fill() has work to do (else vector is up to date)
        self.reset()

    def reset(self):
        """Match an empty (all-zero) window."""
        for acc in (self.vector, self._sum, self._sq, self._root, self._pre_lo, self._pre_hi):
            for i in range(len(acc)):
                acc[i] = 0
        for acc in (self._suf_lo, self._suf_hi):
            for i in range(len(acc)):
                acc[i] = 0

    def update(self, window):
        """Account for the sample the window just kept (and the one it evicted)."""
        buf = window.buffer
        ev = window.evicted
        n = self.n
        head = window.oldest
        new = head - 1 + n  # position of the newest sample in a signal's block
        f = self.vector
        for i, s, o in self._mean:
            f[i] += buf[o + new] - ev[s]
        if self._std:
            sh = self.shift
            total = self._sum
            sq = self._sq
            for j, s, o in self._std:
                u = buf[o + new] >> sh
                v = ev[s] >> sh
                total[j] += u - v
                sq[j] += u * u - v * v
        for i, s, o in self._diff:
            a = buf[o + new] - buf[o + new - 1]
            b = buf[o + head] - ev[s]
            f[i] += (a if a >= 0 else -a) - (b if b >= 0 else -b)
        if self._ext:
            self._update_extremes(buf, head - 1 if head else n - 1)

    def _update_extremes(self, buf, slot):
        pre_lo = self._pre_lo
        pre_hi = self._pre_hi
        for j, _, o in self._ext:  # (no enumerate: it would allocate an iterator)
            v = buf[o + slot]
            if slot == 0:
                pre_lo[j] = v
                pre_hi[j] = v
            elif v < pre_lo[j]:
                pre_lo[j] = v
            elif v > pre_hi[j]:
                pre_hi[j] = v
        if slot == self.n - 1:  # a block is complete: its suffix extremes serve the next one
            suf_lo = self._suf_lo
            suf_hi = self._suf_hi
            for _, base, o in self._ext:
                lo = hi = buf[o + slot]
                for k in range(slot, -1, -1):
                    v = buf[o + k]
                    if v < lo:
                        lo = v
                    elif v > hi:
                        hi = v
                    suf_lo[base + k] = lo
                    suf_hi[base + k] = hi

    def fill(self, window):
        """Finish the stats of the full window in `vector` (std, min, max); returns vector."""
        f = self.vector
        n = self.n
        if self._std_out:
            total = self._sum
            sq = self._sq
            root = self._root
            for j, i in self._std_out:
                t = total[j]
                q = t // n
                r = t - q * n
                r = isqrt(sq[j] - (q * q * n + 2 * q * r + r * r // n), root[j])  # ceil(n var)
                root[j] = r
                f[i] = r
        if self._ext:
            head = window.oldest
            nxt = head if head else n  # suffix of the previous block from the oldest sample on
            for j, i in self._min:
                v = self._pre_lo[j]
                if nxt < n:
                    w = self._suf_lo[self._ext[j][1] + nxt]
                    if w < v:
                        v = w
                f[i] = v
            for j, i in self._max:
                v = self._pre_hi[j]
                if nxt < n:
                    w = self._suf_hi[self._ext[j][1] + nxt]
                    if w > v:
                        v = w
                f[i] = v
        return f

    def input_ref(self, i):
        """Where feature i of the vector is at inference: ("w", offset from the window's
        oldest sample in its buffer) for a time point, ("f", index in `vector`) for a stat."""
        if i < self.n_time:
            nsig = len(self.signals)
            return ("w", self.signals[i % nsig] * self.window.block + i // nsig)
        return ("f", i - self.n_time)

    def load_vector(self, vector):
        """Put a whole feature vector (time points + stats, as training computes it) into the
        window buffer and `vector`, for scoring it as the device would (tests, vectors)."""
        if len(vector) != self.size:
            raise ValueError("feature vector has the wrong length")
        w = self.window
        w.reset()
        buf = w.buffer
        n = self.n
        nsig = len(self.signals)
        for i in range(self.n_time):
            o = self.signals[i % nsig] * w.block + i // nsig
            buf[o] = vector[i]
            buf[o + n] = vector[i]
        for i in range(len(self.vector)):
            self.vector[i] = vector[self.n_time + i]
