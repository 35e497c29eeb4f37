"""The debouncer (gesture.postprocess) on hand-made probability streams, each with the events
worked out by hand from the rules in its docstring (run under micropython by
test_fw_debouncer.py). Classes: idle, x, y; the window end index of inference i is 100 + 5 i.
The model's class scores are integer votes, SCALE votes = probability 1."""

from gesture.postprocess import Debouncer

CLASSES = ["idle", "x", "y"]
SCALE = 10000
IDLE = [9000, 500, 500]


def votes(p):
    return int(p * SCALE + 0.5)


def x(p):
    return [SCALE - votes(p) - 100, votes(p), 100]


def y(p):
    return [SCALE - votes(p) - 100, 100, votes(p)]


def run(stream, **params):
    base = {"threshold_votes": votes(0.6), "min_hits": 3, "max_gap": 1, "refractory": 2}
    base["time_offset"] = 0
    base.update(params)
    deb = Debouncer(CLASSES, base, SCALE)
    out = []
    for i, proba in enumerate(stream):
        ev = deb.update(proba, 100 + 5 * i)
        if ev is not None:
            out.append((i, ev[0], ev[1], round(ev[2], 4)))
    return out


def check(got, expected):
    assert got == expected, f"got {got!r} expected {expected!r}"


def test_exactly_at_the_threshold_is_a_hit():
    # 0.6 >= threshold 0.6: three hits at i = 0, 1, 2 fire at i = 2, index mean(100,105,110)
    check(run([x(0.6), x(0.6), x(0.6)]), [(2, 105, "x", 0.6)])


def test_just_below_the_threshold_is_a_miss():
    check(run([x(0.5999), x(0.5999), x(0.5999), x(0.5999)]), [])


def test_a_gap_of_max_gap_is_bridged_a_longer_one_is_not():
    # hits 0, 1, miss 2, hit 3 -> fires at 3 with ends 100, 105, 115 -> mean 106 (floor)
    check(run([x(0.8), x(0.8), IDLE, x(0.8)]), [(3, 106, "x", 0.8)])
    # hits 0, 1, misses 2, 3 (gap 2 > 1) -> run cleared; hits 4, 5 are only two
    check(run([x(0.8), x(0.8), IDLE, IDLE, x(0.8), x(0.8)]), [])


def test_refractory_then_a_miss_before_the_next_event():
    # fire at 2; i = 3, 4 are refractory (ignored); i = 5 still needs a miss first (the run that
    # fired must end); miss at 6; hits 7, 8, 9 fire at 9 with ends 135, 140, 145 -> 140
    stream = [x(0.9)] * 6 + [IDLE] + [y(0.7)] * 3
    check(run(stream), [(2, 105, "x", 0.9), (9, 140, "y", 0.7)])


def test_the_class_is_the_probability_weighted_vote():
    # hits: x 0.65, y 0.9, x 0.7 -> votes x 1.35, y 0.9 -> x; score 1.35 / 3 hits = 0.45
    check(run([x(0.65), y(0.9), x(0.7)]), [(2, 105, "x", 0.45)])


def test_time_offset_moves_the_event_back_and_never_below_zero():
    check(run([x(0.8)] * 3, time_offset=30), [(2, 75, "x", 0.8)])
    check(run([x(0.8)] * 3, time_offset=500), [(2, 0, "x", 0.8)])


def test_idle_above_threshold_is_never_an_event():
    check(run([[9700, 200, 100]] * 10, min_hits=1), [])


def test_a_tie_goes_to_the_first_class():
    # idle ties x at 0.45: idle wins, no hit; x ties y at 0.45: x wins, three hits fire at 2
    check(run([[4500, 4500, 1000]] * 5, threshold_votes=4000), [])
    check(run([[1000, 4500, 4500]] * 3, threshold_votes=4000), [(2, 105, "x", 0.45)])
