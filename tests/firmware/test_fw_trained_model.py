"""With a model trained by the training pipeline (tiny grid): the firmware under micropython
prints exactly the lines `detect` prints, its model.mpy reproduces the test vectors exactly, and
the whole chain allocates nothing per sample or inference."""

import json

import pytest
from fw_harness import run_micropython

from gesture_stack.cli import main


@pytest.fixture(scope="module")
def trained_model(tmp_path_factory):
    from training.pipeline import train
    from training.synthetic import generate_dataset

    root = tmp_path_factory.mktemp("trained")
    generate_dataset(root / "data", seed=0, count=8, duration_s=90)
    return train(root / "data", root / "model", grid="tiny").model_dir


@pytest.mark.parametrize("seed", [101, 202])
def test_replay_lines_equal_detect_lines(trained_model, tmp_path, capsys, seed):
    from training.detect import detect_samples
    from training.recordings import read_recording, write_recording
    from training.synthetic import generate_recording

    samples, _ = generate_recording(seed, 60.0)
    recording = write_recording(tmp_path / "rec.csv", samples)
    expected = detect_samples(trained_model, read_recording(recording))
    assert main(["replay", str(recording), "--model", str(trained_model)]) == 0
    assert len(expected) >= 5
    assert capsys.readouterr().out.splitlines() == [json.dumps(e) for e in expected]


def test_model_mpy_reproduces_the_test_vectors_under_micropython(trained_model, tmp_path):
    vectors = json.loads((trained_model / "vectors.json").read_text())["vectors"]
    for name in ("model.mpy", "manifest.json", "vectors.json"):
        (tmp_path / name).write_bytes((trained_model / name).read_bytes())
    (tmp_path / "check.py").write_text(
        "import json, sys\nsys.path.insert(0, '.')\nfrom model import score\n"
        "from gesture.detector import Detector\n"
        "det = Detector(json.load(open('manifest.json')), score)\n"
        "wrong = 0\nfor v in json.load(open('vectors.json'))['vectors']:\n"
        "    det.features.load_vector(v['features'])\n"
        "    wrong += list(det.check()) != v['scores']\n"
        "print('wrong', wrong)\n"
    )
    result = run_micropython(["check.py"], cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(vectors) >= 50
    assert result.stdout.split()[-2:] == ["wrong", "0"]  # exact: integer votes


@pytest.fixture(scope="module")
def original_style_model(tmp_path_factory):
    """The original project's model shape (RF, 4 trees of unlimited depth, 5 signals, 20 Hz
    time points) through the same pipeline and integer export."""
    from training.pipeline import train
    from training.synthetic import generate_dataset

    root = tmp_path_factory.mktemp("original")
    generate_dataset(root / "data", seed=3, count=4, duration_s=60)
    return train(root / "data", root / "model", grid="original").model_dir


# The whole device chain: fake timer -> sampler -> ring -> Detector (window, running stats,
# model, debouncer), the app loop draining every 5th sample, on a looped recording.
CHAIN_SCRIPT = """
import gc, json, sys, micropython
from array import array
sys.path.insert(0, '.')
from model import score
from gesture.detector import Detector
from gesture.fakes import FakeClock, FakeMPU6500Bus, FakeTimer
from gesture.mpu6500 import MPU6500
from gesture.ring import SampleRing
from gesture.sampler import Sampler

flat = array('h', bytes(12 * int(sys.argv[3])))
for i, line in enumerate(open('counts.txt')):
    for k, v in enumerate(line.split()):
        flat[6 * i + k] = int(v)


class LoopBus(FakeMPU6500Bus):
    def __init__(self):
        super().__init__()
        self.i = 0

    def on_burst(self):
        c, i = flat, self.i
        self.set_counts(c[i], c[i + 1], c[i + 2], c[i + 3], c[i + 4], c[i + 5])
        i += 6
        self.i = i if i < len(c) else 0


manifest = json.load(open('manifest.json'))
manifest['postprocess']['min_hits'] = int(sys.argv[1])
clock = FakeClock()
ring = SampleRing(64)
sampler = Sampler(MPU6500(LoopBus()), ring)
FakeTimer(clock).init(freq=100, callback=sampler.tick)
det = Detector(manifest, score)
count = [0, 0]  # events, most hits seen in a run


def on_event(ev):
    count[0] += 1


def run(n):
    for i in range(n):
        clock.sleep_ms(10)
        if i % 5 == 4:
            sampler.drain(det, on_event)
            if det.debouncer._hits > count[1]:
                count[1] = det.debouncer._hits


run(300)
start = det.inferences
gc.collect()
if sys.argv[2] == 'locked':
    micropython.heap_lock()
    try:
        run(6000)
    finally:
        micropython.heap_unlock()
    print('chain', det.inferences - start, count[0], count[1], 0)
else:
    gc.disable()
    before = gc.mem_alloc()
    run(6000)
    grown = gc.mem_alloc() - before
    gc.enable()
    print('chain', det.inferences - start, count[0], count[1], grown)
"""


def _run_chain(model_dir, tmp_path, min_hits, mode):
    from training.rawunits import si_to_counts
    from training.synthetic import generate_recording

    samples, truth = generate_recording(404, 60.0)
    assert len(truth) >= 10
    rows = si_to_counts(samples[:, :6]).tolist()
    (tmp_path / "counts.txt").write_text("\n".join(" ".join(map(str, r)) for r in rows))
    for name in ("model.mpy", "manifest.json"):
        (tmp_path / name).write_bytes((model_dir / name).read_bytes())
    (tmp_path / "chain.py").write_text(CHAIN_SCRIPT)
    args = ["chain.py", str(min_hits), mode, str(len(rows))]
    result = run_micropython(args, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    inferences, events, most_hits, grown = map(int, result.stdout.split()[-4:])
    return inferences, events, most_hits, grown


@pytest.mark.parametrize("which", ["trained_model", "original_style_model"])
def test_whole_chain_allocates_nothing_under_heap_lock(which, request, tmp_path):
    """6000 samples (60 s with gestures, 600+ inferences) through sampling, window,
    features, model and debouncer with the heap locked: any allocation raises MemoryError.
    Runs build up (hits) but cannot fire: an event's result tuple is the one allocation."""
    model_dir = request.getfixturevalue(which)
    inferences, events, most_hits, _ = _run_chain(model_dir, tmp_path, 10**6, "locked")
    assert inferences >= 500 and events == 0
    assert most_hits >= 3  # the debouncer saw gesture windows, not only idle


@pytest.mark.parametrize("which", ["trained_model", "original_style_model"])
def test_whole_chain_allocates_only_the_events(which, request, tmp_path):
    model_dir = request.getfixturevalue(which)
    min_hits = json.loads((model_dir / "manifest.json").read_text())["postprocess"]["min_hits"]
    inferences, events, _, grown = _run_chain(model_dir, tmp_path, min_hits, "gc")
    assert inferences >= 500 and events >= 5
    assert grown <= 128 * events  # a 3-tuple and a float per event (GC blocks), nothing else
