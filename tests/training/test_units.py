import numpy as np
import pytest
from gesture import units

from training.rawunits import counts_to_si, quantise, si_to_counts


def test_si_to_raw_scales_and_clips_like_the_sensor():
    assert units.si_to_raw(0, 0, units.G, 1, -1, 0) == (0, 0, 16384, 131, -131, 0)
    assert units.si_to_raw(3 * units.G, -3 * units.G, 0, 300, -300, 0)[:2] == (32767, -32768)
    assert units.si_to_raw(0, 0, 0, 300, -300, 0)[3:5] == (32767, -32768)


def test_rounding_is_half_away_from_zero_not_bankers():
    half = 0.5 / units.GYRO_LSB_PER_DPS
    assert units.gyro_to_raw(2.5 / 131) == 3
    assert units.gyro_to_raw(-2.5 / 131) == -3
    assert units.gyro_to_raw(half * 0.98) == 0


def test_raw_to_si_round_trips_every_count():
    for count in (-32768, -12345, -1, 0, 1, 777, 32767):
        si = units.raw_to_si(count, count, count, count, count, count)
        assert units.si_to_raw(*si) == (count,) * 6


def test_nan_is_rejected():
    with pytest.raises(ValueError):
        units.acc_to_raw(float("nan"))


def test_numpy_quantiser_matches_the_device_conversion():
    rng = np.random.default_rng(3)
    sig = rng.normal(0, [10, 10, 10, 150, 150, 150], (500, 6))
    expected = np.array([units.raw_to_si(*units.si_to_raw(*row)) for row in sig])
    np.testing.assert_allclose(quantise(sig), expected, rtol=0, atol=1e-9)
    counts = si_to_counts(sig)
    assert counts.dtype == np.int16
    assert [tuple(int(c) for c in row) for row in counts] == [units.si_to_raw(*r) for r in sig]
    np.testing.assert_allclose(counts_to_si(counts), expected, rtol=0, atol=1e-12)
