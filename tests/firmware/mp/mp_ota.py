"""OTA release checks, the probation scorer and the trial record (runs under micropython)."""

import time

from gesture import probation
from gesture.ota import OtaError, plan

SHA = "ab" * 32
CLASSES = ("idle", "x", "y", "circle")


def _raises(exc_type, fn, *args):
    try:
        fn(*args)
    except exc_type as exc:
        return exc
    raise AssertionError(exc_type.__name__ + " not raised")


def _release(**file_fields):
    file = {"name": "model.mpy", "url": "http://h/m", "sha256": SHA, "bytes": 100}
    file.update(file_fields)
    entry = {"sha256": SHA, "bytes": 100}
    return {
        "version": "v1",
        "manifest": {"version": "v1", "files": {"model.mpy": entry}},
        "file": file,
    }


def test_plan_accepts_a_consistent_release():
    assert plan(_release(), 1000) == ("v1", "model.mpy", SHA, 100)


def test_plan_refuses_what_it_cannot_trust():
    cases = [
        ([], "not a JSON object"),
        ({"version": 7, "manifest": {}, "file": {}}, "bad version"),
        ({"version": "v1"}, "without manifest"),
        (_release(sha256=SHA.upper()), "sha256/size"),
        (_release(sha256=SHA[:-1]), "sha256/size"),
        (_release(bytes=True), "sha256/size"),
        (_release(bytes=0), "sha256/size"),
        (_release(bytes="100"), "sha256/size"),
        (_release(name="model.bin"), "unexpected model file"),
    ]
    for release, reason in cases:
        exc = _raises(OtaError, plan, release, 1000)
        assert reason in str(exc), (reason, str(exc))
    assert "more than the 99 allowed" in str(_raises(OtaError, plan, _release(), 99))
    no_manifest_entry = _release()
    no_manifest_entry["manifest"]["files"] = {}
    assert "does not describe" in str(_raises(OtaError, plan, no_manifest_entry, 1000))


def _scorer(score, probation_n=0, budget_ms=1000):
    return probation.Scorer(score, CLASSES, budget_ms, probation_n)


def test_malformed_answers_become_idle_and_are_counted():
    answers = [
        [float("nan")] * 4,
        [float("inf"), 0.0, 0.0, 0.0],
        [0.5, 0.5],
        ["x", 0, 0, 0],
        [True, False, False, False],
        None,
        {"idle": 1},
    ]
    for answer in answers:
        s = _scorer(lambda v, a=answer: a)
        assert s([0.0]) == [1.0, 0.0, 0.0, 0.0], answer
        assert s.errors == 1 and s.failed is None, answer  # trusted: counted, no verdict


def test_integer_scores_are_numbers_too():
    s = _scorer(lambda v: [1, 0, 0, 0], probation_n=1)
    assert s([0.0]) == [1, 0, 0, 0] and s.errors == 0 and s.passed


def test_probation_passes_after_n_good_inferences():
    s = _scorer(lambda v: [0.9, 0.1, 0.0, 0.0], probation_n=3)
    for _ in range(2):
        s([0.0])
    assert not s.passed
    s([0.0])
    assert s.passed and s.failed is None


def test_probation_fails_on_the_first_fault():
    calls = []

    def score(v):
        calls.append(v)
        if len(calls) == 2:
            raise ValueError("boom")
        return [0.9, 0.1, 0.0, 0.0]

    s = _scorer(score, probation_n=10)
    for _ in range(5):
        s([0.0])
    assert "boom" in s.failed and not s.passed and s.errors == 1


def test_probation_fails_after_more_than_the_allowed_slow_calls():
    def slow(v):
        time.sleep_ms(3)
        return [0.9, 0.1, 0.0, 0.0]

    s = _scorer(slow, probation_n=10, budget_ms=1)
    for _ in range(probation.SLOW_ALLOWED):
        s([0.0])
    assert s.failed is None
    s([0.0])
    assert s.failed.startswith("slow")
    trusted = _scorer(slow, budget_ms=1)
    for _ in range(5):
        trusted([0.0])
    assert trusted.slow == 5 and trusted.failed is None


def test_trial_survives_a_reboot_and_keeps_the_newest_bad_versions():
    t = probation.Trial("m")  # a fresh folder per test: nothing on flash yet
    assert t.trying is None and t.bad == []
    t.begin("v1")
    assert probation.Trial("m").trying == "v1"
    for i in range(probation.MAX_BAD + 3):
        t.reject("v" + str(i))
    again = probation.Trial("m")
    assert again.trying is None and len(again.bad) == probation.MAX_BAD
    assert again.bad[-1] == "v" + str(probation.MAX_BAD + 2) and not again.is_bad("v0")
    with open("m.trial.json", "w") as f:
        f.write("{not json")
    assert probation.Trial("m").bad == []  # unreadable: start clean rather than crash


def _votes(out, idle, x):
    out[0] = idle
    out[1] = 100 - idle
    out[2] = 0
    out[3] = 0


def test_integer_models_write_their_votes_into_the_detectors_list():
    """The integer export's shape: score(w, b, f, out) fills `out` (votes adding up to scale)."""
    s = probation.Scorer(lambda w, b, f, out: _votes(out, 90, w), CLASSES, 1000, 2, scale=100)
    out = [0, 0, 0, 0]
    assert s(bytearray(4), 0, [0], out) is out and out == [90, 10, 0, 0]
    s(bytearray(4), 0, [0], out)
    assert s.passed and s.errors == 0


def test_integer_model_faults_leave_idle_votes_in_the_list():
    def raises(w, b, f, out):
        out[1] = 100
        raise ValueError("half written")

    def writes_text(w, b, f, out):
        out[2] = "x"

    for score in (raises, writes_text):
        s = probation.Scorer(score, CLASSES, 1000, 5, scale=100)
        out = [0, 0, 0, 0]
        assert s(bytearray(4), 0, [0], out) is out and out == [100, 0, 0, 0], score
        assert s.errors == 1 and s.failed is not None


def test_the_guard_allocates_nothing_for_an_integer_model():
    import micropython

    s = probation.Scorer(lambda w, b, f, out: _votes(out, 90, w), CLASSES, 1000, 3, scale=100)
    w, f, out = bytearray(4), [0], [0, 0, 0, 0]
    s(w, 0, f, out)  # warm up
    micropython.heap_lock()
    try:
        for _ in range(3):
            s(w, 0, f, out)
    finally:
        micropython.heap_unlock()
    assert out == [90, 10, 0, 0] and s.inferences == 4 and s.errors == 0


def test_a_model_that_changes_the_length_of_its_list_gets_it_back():
    def grows(w, b, f, out):
        out.append(7)

    def shrinks(w, b, f, out):
        out.pop()

    for score in (grows, shrinks):
        s = probation.Scorer(score, CLASSES, 1000, 5, scale=100)
        out = [0, 0, 0, 0]
        assert s(bytearray(4), 0, [0], out) == [100, 0, 0, 0] and s.failed is not None
