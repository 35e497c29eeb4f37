"""pipeline.training_backend: the seam to training/ (the training itself is tested there)."""

from __future__ import annotations

import pytest

from pipeline.training_backend import GestureTraining, load_backend
from training.recordings import labels_path_for, read_labels


def events_in(path) -> int:
    return len(read_labels(labels_path_for(path)))


def test_evaluation_streams_are_fixed_and_half_of_them_dense(tmp_path):
    streams = GestureTraining().evaluation_streams(tmp_path / "a", {"evaluation_recordings": 4})
    again = GestureTraining().evaluation_streams(tmp_path / "b", {"evaluation_recordings": 4})
    assert [p.read_bytes() for p in streams] == [p.read_bytes() for p in again]
    spaced, dense = streams[:2], streams[2:]
    assert [p.parent.name for p in streams] == ["spaced", "spaced", "dense", "dense"]
    assert min(map(events_in, dense)) > max(map(events_in, spaced))  # same minute, more gestures


def test_unknown_training_parameters_and_backends_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown training parameter"):
        GestureTraining().evaluation_streams(tmp_path, {"gird": "tiny"})
    with pytest.raises(ValueError, match="module:attribute"):
        load_backend("pipeline.training_backend")
    assert isinstance(load_backend("pipeline.training_backend:GestureTraining"), GestureTraining)
