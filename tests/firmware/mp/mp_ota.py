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


SCALE = 100  # votes per window


def _scorer(score, probation_n=0, budget_ms=1000):
    return probation.Scorer(score, CLASSES, budget_ms, probation_n, SCALE)


def _writes(values, returns_out=True):
    """A model writing `values` into its scores list (and returning it, or a new list)."""

    def score(w, b, f, out):
        for i in range(len(values)):
            out[i] = values[i]
        return out if returns_out else list(values)

    return score


def good(w, b, f, out):  # a plain function, as an exported model is
    out[0], out[1], out[2], out[3] = 90, 10, 0, 0
    return out


def _call(s):
    out = [0] * len(CLASSES)
    return s(None, 0, [0], out)


def test_malformed_answers_become_idle_and_are_counted():
    answers = [
        _writes([float("nan"), 0, 0, 100]),
        _writes([0.5, 0, 0, 99.5]),  # probabilities: not votes
        _writes([50, 50, 0, 1]),  # 101 votes
        _writes([150, -50, 0, 0]),
        _writes(["x", 0, 0, 100]),
        _writes([True, False, False, 99]),
        _writes([100, 0, 0, 0], returns_out=False),  # not the list it was given
        lambda w, b, f, out: None,
    ]
    for answer in answers:
        s = _scorer(answer)
        assert _call(s) == [SCALE, 0, 0, 0], answer
        assert s.errors == 1 and s.failed is None, answer  # trusted: counted, no verdict


def test_integer_votes_pass_and_the_check_allocates_nothing():
    import micropython

    s = _scorer(good, probation_n=1)
    out, stats = [0] * len(CLASSES), [0]
    micropython.heap_lock()
    try:
        got = s(None, 0, stats, out)
    finally:
        micropython.heap_unlock()
    assert got is out and out == [90, 10, 0, 0] and s.errors == 0 and s.passed


def test_probation_passes_after_n_good_inferences():
    s = _scorer(good, probation_n=3)
    for _ in range(2):
        _call(s)
    assert not s.passed
    _call(s)
    assert s.passed and s.failed is None


def test_probation_fails_on_the_first_fault():
    calls = []

    def score(w, b, f, out):
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("boom")
        return good(w, b, f, out)

    s = _scorer(score, probation_n=10)
    for _ in range(5):
        _call(s)
    assert "boom" in s.failed and not s.passed and s.errors == 1


def test_probation_fails_after_more_than_the_allowed_slow_calls():
    def slow(w, b, f, out):
        time.sleep_ms(3)
        return good(w, b, f, out)

    s = _scorer(slow, probation_n=10, budget_ms=1)
    for _ in range(probation.SLOW_ALLOWED):
        _call(s)
    assert s.failed is None
    _call(s)
    assert s.failed.startswith("slow")
    trusted = _scorer(slow, budget_ms=1)
    for _ in range(5):
        _call(trusted)
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
