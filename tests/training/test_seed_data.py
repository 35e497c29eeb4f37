"""The real seed windows: event groups recovered, split without leakage, trained end to end."""

import numpy as np
import pytest

from training.params import load_params
from training.pipeline import split_streams, train
from training.seed_data import load_seed_windows, recover_timelines
from training.streams import seed_streams


@pytest.fixture(scope="module")
def seed_windows(seed_data):
    return load_seed_windows(seed_data)


@pytest.fixture(scope="module")
def timelines(seed_windows):
    return recover_timelines(seed_windows)


def test_every_row_lands_in_exactly_one_group(seed_windows, timelines):
    rows = [r for t in timelines for r in t.rows]
    assert sorted(rows) == list(range(len(seed_windows.label)))


def test_recovered_events_match_the_readme_counts(timelines):
    streams = seed_streams(timelines)
    counts = {}
    for s in streams:
        for e in s.events:
            counts[e.gesture] = counts.get(e.gesture, 0) + 1
    assert counts == {"x": 24, "y": 48, "circle": 56}
    durations = [e.end_ms - e.start_ms for s in streams for e in s.events if e.gesture == "circle"]
    assert 600 <= np.median(durations) <= 1000


def test_interleaved_copies_make_a_smooth_100hz_signal(timelines):
    circles = [t for t in timelines if any(e[0] == 3 for e in t.events)]
    step1 = np.mean([np.abs(np.diff(t.samples[:, 3:], axis=0)).mean() for t in circles])
    step5 = np.mean([np.abs(t.samples[5:, 3:] - t.samples[:-5, 3:]).mean() for t in circles])
    assert step1 < 0.35 * step5  # wrongly paired shifts would make neighbours jump


def test_split_puts_no_shared_sample_on_both_sides(seed_windows, timelines):
    params = load_params()
    parts = split_streams(seed_streams(timelines), params)
    by_group = {str(t.group): t.rows for t in timelines}

    def samples_of(streams):
        groups = {g for s in streams for g in s.group.split("+")}
        rows = [r for g in groups for r in by_group[g]]
        return {w.tobytes() for r in rows for w in seed_windows.windows[r]}

    test = samples_of(parts.pop("test"))
    dev = samples_of([s for ss in parts.values() for s in ss])
    assert test and dev and not test & dev


def test_tiny_grid_trains_on_real_data(seed_data, tmp_path):
    result = train(seed_data, tmp_path / "model", "tiny")
    assert result.manifest.metrics["source"] == "seed-imu"
    assert result.test.tp + result.test.fn >= 15
    assert result.test.f1 >= 0.8
