"""Firmware benchmark body; runs under the micropython unix port (driven by firmware_device.py).

usage: micropython firmware_mpbench.py chain COUNTS MODEL_DIR
       micropython firmware_mpbench.py import MODEL_DIR (mpy|py)
       micropython firmware_mpbench.py outbox N
Prints one `bench <name> <value>` line per result.
"""

import gc
import json
import sys
import time

try:
    import micropython
except ImportError:  # imported by CPython (e.g. a benchmark runner listing modules): no-op
    micropython = None

# Bytes are counted with the collector off: the original style's float stats leave ~20 KB per
# inference, so fewer calls than the 200 sampling steps fit a board-sized heap.
CHAIN_NB = 40  # samples
INFERENCE_NB = 8  # inferences
ACC_SI = 9.80665 / 16384
GYRO_SI = 1 / 131


def out(name, value):
    print("bench", name, value)


def load_counts(path):
    """The recording as one flat int16 array (one object: nothing for the GC to walk)."""
    from array import array

    from gesture.fakes import counts_from_counts_csv

    with open(path) as f:
        rows = sum(1 for _ in f) - 1
    flat = array("h", bytes(12 * rows))
    i = 0
    for c in counts_from_counts_csv(path):
        for v in c:
            flat[i] = v
            i += 1
    return flat


def looping_bus(counts):
    """A fake MPU6500 serving the recording over and over, without allocating."""
    from gesture.fakes import FakeMPU6500Bus

    class LoopingBus(FakeMPU6500Bus):
        def __init__(self):
            super().__init__()
            self.i = 0

        def on_burst(self):
            c, i = counts, self.i
            self.set_counts(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5])
            i += 6
            self.i = i if i < len(c) else 0

    return LoopingBus()


def load_model(model_dir, kind="mpy", module="model"):
    with open(model_dir + "/manifest.json") as f:
        manifest = json.load(f)
    sys.path.insert(0, model_dir + "/" + kind)
    score = __import__(module).score
    sys.path.pop(0)
    return manifest, score


# -- ours: timer -> ring -> Detector ----------------------------------------------------------
def ours_setup(counts, manifest, score, hop=None):
    from gesture.detector import Detector
    from gesture.fakes import FakeClock, FakeTimer
    from gesture.mpu6500 import MPU6500
    from gesture.ring import SampleRing
    from gesture.sampler import Sampler

    if hop is not None:
        manifest = dict(manifest)
        manifest["hop"] = hop
    clock = FakeClock()
    sampler = Sampler(MPU6500(looping_bus(counts)), SampleRing(512))
    FakeTimer(clock).init(freq=100, callback=sampler.tick)
    det = Detector(manifest, score)
    return clock, sampler, det


def _on_event(ev):
    pass


def ours_run(clock, sampler, det, n):
    """n samples at 100 Hz; the app loop (loop_ms = 50) drains the ring every 5th sample."""
    for i in range(n):
        clock.sleep_ms(10)
        if i % 5 == 4:
            sampler.drain(det, _on_event)


# -- original style: SI floats, list buffer with pop(0)/extend, m2cgen on the list -------------
class Original:
    """The original device loop: read SI tuples, keep a flat list window, score it (with float
    stats computed from the list per inference when the model uses them)."""

    def __init__(self, counts, manifest, score):
        from gesture.fakes import FakeClock, FakeTimer
        from gesture.mpu6500 import MPU6500

        self.imu = MPU6500(looping_bus(counts))
        self.clock = FakeClock()  # the same fake timer drives both implementations
        self._tick = self.tick
        FakeTimer(self.clock).init(freq=100, callback=self._tick)
        self.score = score
        self.decimation = manifest["decimation"]
        self.length = manifest["window"] * len(manifest["signals"])
        names = ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")
        self.pick = [names.index(s) for s in manifest["signals"]]
        self.time_points = manifest["features"].get("time_points", True)
        self.stats = manifest["features"].get("stats", [])
        self.buf = []
        self.phase = 0
        self.hits = 0
        self.events = 0

    def tick(self, _timer):
        self.sample()

    def sample(self):
        c = self.imu.read_counts()  # a typical driver: a new list per read, then SI floats
        ka, kg = ACC_SI, GYRO_SI
        ax, ay, az = c[0] * ka, c[1] * ka, c[2] * ka
        gx, gy, gz = c[3] * kg, c[4] * kg, c[5] * kg
        self.phase += 1
        if self.phase < self.decimation:
            return
        self.phase = 0
        row = [ax, ay, az, gx, gy, gz]
        self.buf.extend([row[i] for i in self.pick])
        while len(self.buf) > self.length:
            self.buf.pop(0)
        if len(self.buf) == self.length:
            self.infer()

    def features(self):
        """Time points (the list itself) and per signal mean, std, min, max, absdiff in SI."""
        buf = self.buf
        if not self.stats:
            return buf
        nsig = len(self.pick)
        out = list(buf) if self.time_points else []
        for j in range(nsig):
            vals = buf[j::nsig]
            n = len(vals)
            total = sq = diff = 0.0
            prev = vals[0]
            for v in vals:
                total += v
                sq += v * v
                diff += abs(v - prev)
                prev = v
            mean = total / n
            for stat in self.stats:
                if stat == "mean":
                    out.append(mean)
                elif stat == "std":
                    out.append(max(sq / n - mean * mean, 0.0) ** 0.5)
                elif stat == "min":
                    out.append(min(vals))
                elif stat == "max":
                    out.append(max(vals))
                else:
                    out.append(diff / (n - 1))
        return out

    def infer(self):
        proba = self.score(self.features())
        best = proba.index(max(proba))
        self.hits = self.hits + 1 if best and proba[best] > 0.6 else 0
        if self.hits == 3:
            self.events += 1


def measure(run, n, nb=200):
    """(GC heap bytes left behind per call, us per call, bytes requested per call) of run(n).

    Bytes: gc.mem_alloc() growth with the collector off counts what a call leaves on the GC
    heap (garbage the collector must later reclaim); mem_total() also counts blocks freed
    again at once, such as large call frames, which leave nothing behind.
    Time: best of 5 runs with the collector on, so collecting the garbage is part of the cost.
    """
    gc.collect()
    gc.disable()
    a0, m0 = gc.mem_alloc(), micropython.mem_total()
    run(nb)
    a1, m1 = gc.mem_alloc(), micropython.mem_total()
    gc.enable()
    best = None
    for _ in range(5):
        gc.collect()
        t0 = time.ticks_us()
        run(n)
        dt = time.ticks_diff(time.ticks_us(), t0)
        best = dt if best is None else min(best, dt)
    return (a1 - a0) / nb, best / n, (m1 - m0) / nb


def repeat(fn):
    """run(k) calling fn k times (no list built: the harness itself allocates nothing)."""

    def run(k):
        for _ in range(k):
            fn()

    return run


def report(prefix, result):
    heap, us, requested = result
    out(prefix + "_bytes", heap)
    out(prefix + "_us", us)
    out(prefix + "_requested", requested)


def bench_chain(counts_path, model_dir):
    counts = load_counts(counts_path)
    manifest, score = load_model(model_dir)
    _, float_score = load_model(model_dir, "float", "float_model")
    warm, n = 300, 4000
    # ours, per-sample path only (inference disabled by an unreachable hop)
    clock, sampler, det = ours_setup(counts, manifest, score, hop=10**6)
    ours_run(clock, sampler, det, warm)
    report("ours_sample", measure(lambda k: ours_run(clock, sampler, det, k), n))
    # ours, full chain (sampling + inference every hop)
    clock, sampler, det = ours_setup(counts, manifest, score)
    ours_run(clock, sampler, det, warm)
    inf0 = det.inferences
    report("ours_chain", measure(lambda k: ours_run(clock, sampler, det, k), n, CHAIN_NB))
    out("ours_inferences", det.inferences - inf0)
    # ours, one inference (features + model + debouncer) on a full window; the run never
    # completes here (an event's result tuple, once per gesture, is counted in the chain)
    det.debouncer.min_hits = 10**6
    report("ours_inference", measure(repeat(det._infer), 800, INFERENCE_NB))
    # original style: the same trees as m2cgen's float code, thresholds in SI
    orig = Original(counts, manifest, float_score)
    clock = orig.clock

    def run_orig(k):
        for _ in range(k):
            clock.sleep_ms(10)

    run_orig(warm)

    report("orig_chain", measure(run_orig, n, CHAIN_NB))
    report("orig_inference", measure(repeat(orig.infer), 800, INFERENCE_NB))
    orig.decimation = 10**6  # per-sample path only: read and convert, no window step
    report("orig_sample", measure(run_orig, n))


def bench_import(model_dir, kind):
    gc.collect()
    base = micropython.mem_current()
    peak0 = micropython.mem_peak()
    t0 = time.ticks_us()
    load_model(model_dir, kind)
    dt = time.ticks_diff(time.ticks_us(), t0)
    peak = micropython.mem_peak()
    gc.collect()
    out("import_" + kind + "_peak_bytes", max(peak, peak0) - base)
    out("import_" + kind + "_retained_bytes", micropython.mem_current() - base)
    out("import_" + kind + "_us", dt)


def bench_outbox(n):
    from gesture.outbox import Outbox

    def event(i):
        return {
            "gesture": "circle",
            "t_ms": 1795598820748 + i * 1000,
            "score": 0.9375,
            "model_version": "20261125093157-35f6fc07",
        }

    gc.collect()
    a = gc.mem_alloc()
    box = Outbox("bench-outbox", "events", n, seq_field="seq")
    for i in range(n):
        box.put(event(i))
    gc.collect()
    out("outbox_bytes_per_event", (gc.mem_alloc() - a) / n)
    del box
    gc.collect()
    a = gc.mem_alloc()
    queue = []
    for i in range(n):
        record = event(i)
        record["seq"] = i + 1
        queue.append(record)
    gc.collect()
    out("dicts_bytes_per_event", (gc.mem_alloc() - a) / n)


def main(argv):
    if argv[1] == "chain":
        bench_chain(argv[2], argv[3])
    elif argv[1] == "import":
        bench_import(argv[2], argv[3])
    elif argv[1] == "outbox":
        bench_outbox(int(argv[2]))


if __name__ == "__main__" and micropython is not None:
    main(sys.argv)
