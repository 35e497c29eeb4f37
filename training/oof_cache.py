"""Resumable selection: each candidate's out-of-fold probabilities kept in the models layer.

A run interrupted during the grid picks up where it stopped: a candidate whose cache entry
matches the same folds (sample hash), parameters and candidate is not fitted again.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

from training.params import Candidate, TrainParams
from training.streams import Stream

FORMAT = b"integer-votes-2"  # what an entry holds (2: std as isqrt); older entries never match


def folds_fingerprint(folds: dict[str, list[Stream]], params: TrainParams) -> str:
    """Hash of the fold streams' samples and events and of every parameter selection uses."""
    h = hashlib.sha256(FORMAT)
    for name in sorted(folds):
        for s in folds[name]:
            h.update(name.encode() + s.samples.tobytes() + repr(s.events).encode())
    settings = params.model_dump(exclude={"grids", "calibration", "vectors"})
    h.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return h.hexdigest()


class OofCache:
    """Pickled (ends, class votes, scale) per out-of-fold stream, size and fit time, per
    candidate."""

    def __init__(self, folder: Path | None, fingerprint: str):
        self.folder, self.fingerprint = folder, fingerprint

    def _path(self, c: Candidate) -> Path:
        key = hashlib.sha256((self.fingerprint + c.model_dump_json()).encode()).hexdigest()
        return Path(self.folder) / f"{key[:24]}.pkl"

    def load(self, c: Candidate) -> dict | None:
        if self.folder is None or not self._path(c).exists():
            return None
        return pickle.loads(self._path(c).read_bytes())

    def save(self, c: Candidate, entry: dict) -> None:
        if self.folder is not None:
            Path(self.folder).mkdir(parents=True, exist_ok=True)
            self._path(c).write_bytes(pickle.dumps(entry))
