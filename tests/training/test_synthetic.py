import itertools

import numpy as np
import pytest
from gesture import units

from training.recordings import (
    COLUMNS,
    RecordingError,
    find_recordings,
    labels_path_for,
    read_labels,
    read_recording,
    write_recording,
)
from training.synthetic import generate_dataset, generate_recording


def test_same_seed_same_recording_different_seed_differs():
    a, ea = generate_recording(7, 30)
    b, eb = generate_recording(7, 30)
    c, _ = generate_recording(8, 30)
    np.testing.assert_array_equal(a, b)
    assert ea == eb
    assert not np.array_equal(a, c)


def test_recording_is_physically_plausible():
    samples, events = generate_recording(1, 120)
    assert samples.shape == (12000, 7)
    np.testing.assert_array_equal(samples[:, 6], np.arange(12000) * 10)
    acc, gyro = samples[:, :3], samples[:, 3:6]
    assert np.abs(acc).max() <= 2 * units.G + 1e-3 and np.abs(gyro).max() <= 250.2
    # gestures saturate the sensor somewhere, as real ones do
    assert np.isclose(np.abs(acc).max(), 2 * units.G, atol=1e-3)
    quiet = samples[:50, :6]
    assert 9.0 < quiet[:, 2].mean() < 10.6 and quiet[:, :2].std(0).max() < 0.3
    assert {e.gesture for e in events} == {"circle", "x", "y"}
    for e in events:
        duration = e.end_ms - e.start_ms
        assert (780 <= duration <= 1000) if e.gesture == "circle" else (390 <= duration <= 600)
        inside = samples[e.start_ms // 10 : e.end_ms // 10]
        assert np.abs(inside[:, :2]).max() > 5  # the gesture actually moves the device
    starts = [e.start_ms for e in events]
    assert starts == sorted(starts)
    assert all(b.start_ms > a.end_ms for a, b in itertools.pairwise(events))


def test_handling_moves_the_device_without_an_event():
    samples, events = generate_recording(3, 120, gestures=("x",))
    busy = np.abs(samples[:, 3:6]).max(1) > 20
    in_event = np.zeros(len(samples), bool)
    for e in events:
        in_event[e.start_ms // 10 : e.end_ms // 10 + 1] = True
    assert (busy & ~in_event).sum() > 50
    quiet, _ = generate_recording(3, 120, gestures=("x",), handling=False)
    rest = np.ones(len(quiet), bool)
    for e in _:
        rest[e.start_ms // 10 : e.end_ms // 10 + 1] = False
    assert np.abs(quiet[rest, 3:6]).max() < 10


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError):
        generate_recording(0, 1.0)
    with pytest.raises(ValueError):
        generate_recording(0, 10, gestures=("wave",))


def test_write_and_read_round_trip_exactly_in_counts(tmp_path):
    samples, events = generate_recording(5, 20)
    path = write_recording(tmp_path / "rec.csv", samples, events)
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    back = read_recording(path)
    assert read_labels(labels_path_for(path)) == events
    raw = [units.si_to_raw(*r[:6]) for r in samples[::7]]
    assert [units.si_to_raw(*r[:6]) for r in back[::7]] == raw


def test_generate_dataset_writes_discoverable_recordings(tmp_path):
    paths = generate_dataset(tmp_path, seed=10, count=2, duration_s=10)
    assert find_recordings(tmp_path) == paths


def test_malformed_recording_gives_clear_error(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(RecordingError, match="header"):
        read_recording(bad)
    bad.write_text(",".join(COLUMNS) + "\n1,2,3,4,5,6,0\n1,2,3,4,5,6,50\n")
    with pytest.raises(RecordingError, match="100 Hz"):
        read_recording(bad)


def test_a_gesture_set_can_include_a_new_gesture():
    from training.synthetic import SHAPES

    _, events = generate_recording(5, 90, gestures=("circle", "x", "y", "shake"))
    assert "shake" in SHAPES and "shake" in {e.gesture for e in events}
    _, only = generate_recording(6, 30, gestures=("shake",))
    assert {e.gesture for e in only} == {"shake"}
    with pytest.raises(ValueError, match="subset"):
        generate_recording(6, 30, gestures=("wave",))
