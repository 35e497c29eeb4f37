"""The fleet benchmark's accounting: lost and stored-twice events against what detect finds."""

from benchmarks.fleet import compare


def ev(gesture, n, event_id=None):
    return {"gesture": gesture, "t_ms": n, "seq": n, "id": event_id or f"1-{n}"}


def test_everything_stored_once_is_neither_lost_nor_twice():
    assert compare(["x", "y", "circle"], [ev("x", 1), ev("y", 2), ev("circle", 3)]) == (0, 0)


def test_a_missing_event_is_lost_and_an_extra_one_is_stored_twice():
    assert compare(["x", "y", "circle"], [ev("x", 1), ev("circle", 3)]) == (1, 0)
    assert compare(["x", "y"], [ev("x", 1), ev("x", 2), ev("y", 3)]) == (0, 1)


def test_the_same_id_stored_twice_counts_even_where_gestures_align():
    stored = [ev("x", 1, "1-1"), ev("x", 2, "1-1")]
    assert compare(["x", "x"], stored) == (0, 1)
