"""Training-only augmentation: the small-rotation copies (params.yml `augment.rotation_deg`)."""

import numpy as np

from training.augment import LIMITS, augmented, random_rotation, rotate, rotation_matrix
from training.featurize import WindowSpec, classes_of
from training.params import load_params
from training.selection import WindowCache
from training.streams import Stream
from training.synthetic import generate_recording


def _streams(n=3, seconds=12):
    out = []
    for i in range(n):
        samples, events = generate_recording(100 + i, seconds)
        out.append(Stream(f"s{i}", samples[:, :6].copy(), events, f"g{i}"))
    return out


def _angle(r):
    return np.degrees(np.arccos(np.clip((np.trace(r) - 1) / 2, -1, 1)))


def test_rotation_preserves_vector_norms_before_clipping():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 6)) * [9.8, 9.8, 9.8, 200, 200, 200]
    for _ in range(20):
        r = random_rotation(rng, 20)
        assert np.allclose(r @ r.T, np.eye(3)) and np.isclose(np.linalg.det(r), 1)
        assert 0 <= _angle(r) <= 20 + 1e-9
        y = rotate(x, r)
        for cols in (slice(0, 3), slice(3, 6)):
            assert np.allclose(
                np.linalg.norm(y[:, cols], axis=1), np.linalg.norm(x[:, cols], axis=1)
            )
    assert np.allclose(rotate(x, rotation_matrix((0, 1, 0), 0)), x)
    turned = rotate(np.array([[0, 0, 9.8, 0, 0, 0]]), rotation_matrix((0, 1, 0), 90))
    assert np.allclose(turned, [[9.8, 0, 0, 0, 0, 0]])


def test_rotated_copies_are_seeded_clipped_and_leave_the_other_copies_as_they_were():
    streams = _streams()
    args = (1, (0.9, 1.1), (0.9, 1.1))
    a = augmented(streams, *args, seed=5, rotation_deg=15, rotated_copies=1)
    b = augmented(streams, *args, seed=5, rotation_deg=15, rotated_copies=1)
    c = augmented(streams, *args, seed=6, rotation_deg=15, rotated_copies=1)
    plain = augmented(streams, *args, seed=5)
    assert len(a) == 9 and len(plain) == 6
    assert all(np.array_equal(x.samples, y.samples) for x, y in zip(a, b, strict=True))
    assert not all(np.array_equal(x.samples, y.samples) for x, y in zip(a, c, strict=True))
    for x, p in zip(a[:6], plain, strict=True):  # rotation draws from its own generator
        assert np.array_equal(x.samples, p.samples) and x.events == p.events
    assert all((np.abs(x.samples) <= LIMITS + 1e-9).all() for x in a[6:])


def test_a_device_at_rest_is_tilted_by_at_most_the_configured_angle():
    rest = np.tile([0.0, 0.0, 9.80665, 0.0, 0.0, 0.0], (300, 1))
    streams = [Stream(f"r{i}", rest.copy(), [], f"g{i}") for i in range(20)]
    copies = augmented(streams, 0, (1, 1), (1, 1), seed=0, rotation_deg=15, rotated_copies=1)[20:]
    tilts = []
    for x in copies:
        g = x.samples[:, :3]
        assert np.allclose(np.linalg.norm(g, axis=1), 9.80665, atol=2e-3)  # quantised only
        tilts.append(np.degrees(np.arccos(np.clip(g[:, 2] / np.linalg.norm(g, axis=1), -1, 1))))
    tilts = np.concatenate(tilts)
    assert tilts.max() <= 15.01 and tilts.max() > 5


def test_rotation_touches_training_copies_only():
    params = load_params()
    params.augment.rotation_deg, params.augment.rotated_copies = 15, 1
    train, held_out = _streams(2), _streams(2, seconds=10)
    before = [s.samples.copy() for s in train + held_out]
    cache = WindowCache(train, params, classes_of(train))
    cache.get(WindowSpec(20, ("acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z")))
    assert all(a is b for a, b in zip(cache.streams[:2], train, strict=True))  # originals first
    assert all(s.name.endswith("-aug") for s in cache.streams[2:])
    for s, x in zip(train + held_out, before, strict=True):
        assert np.array_equal(s.samples, x)
