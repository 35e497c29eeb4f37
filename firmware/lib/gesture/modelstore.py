"""The model on flash: `<dir>/manifest.json` + `<dir>/model.mpy` (or model.py), with the previous
one kept in `<dir>.prev`. Loading imports the m2cgen module and returns its `score`.

The model version format and file names are gesture.spec's (the API keeps pinned copies:
functions.storage_layout.VERSION_PATTERN / MODEL_FILE_NAMES).
"""

import json
import sys

from gesture import storage
from gesture.spec import MANIFEST_FILE, MODEL_FILES, VERSION_CHARS, VERSION_MAX  # noqa: F401

MODULE = "model"


def valid_version(version):
    """True if `version` is a model version the API accepts (see the module docstring)."""
    if not isinstance(version, str) or not 0 < len(version) <= VERSION_MAX:
        return False
    return all(ch in VERSION_CHARS for ch in version)


class ModelError(Exception):
    """The model folder is missing, incomplete or does not load."""


def read_manifest(directory):
    try:
        with open(directory + "/" + MANIFEST_FILE) as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise ModelError(f"{directory}: no readable manifest.json ({exc})") from None


def import_score(directory):
    """Import `model` from `directory` (fresh, even if another model was imported before)."""
    sys.modules.pop(MODULE, None)
    sys.path.insert(0, directory)
    try:
        module = __import__(MODULE)
    except Exception as exc:
        raise ModelError(f"{directory}: model does not import ({exc!r})") from None
    finally:
        sys.path.pop(0)
        sys.modules.pop(MODULE, None)
    score = getattr(module, "score", None)
    if score is None:
        raise ModelError(directory + ": model has no score()")
    return score


def load(directory, check=None):
    """(manifest, score) of the model in `directory`; `check(manifest, score)` may veto it by
    raising (the app builds its Detector and scores a zero window)."""
    if not (storage.exists(directory + "/model.mpy") or storage.exists(directory + "/model.py")):
        raise ModelError(directory + ": no model.mpy or model.py")
    manifest = read_manifest(directory)
    score = import_score(directory)
    if check is not None:
        try:
            check(manifest, score)
        except Exception as exc:  # any veto means: this model cannot run here
            raise ModelError(f"{directory}: model rejected ({exc!r})") from None
    return manifest, score


def load_current(directory, check=None):
    """The current model, or the previous one (restored as current) if the current fails."""
    try:
        return load(directory, check)
    except ModelError:
        prev = directory + ".prev"
        if not storage.is_dir(prev):
            raise
    result = load(prev, check)
    storage.remove(directory)
    storage.replace(prev, directory)
    return result


def swap_in(new_dir, directory):
    """Make `new_dir` the current model; the current one becomes `<directory>.prev`."""
    prev = directory + ".prev"
    storage.remove(prev)
    if storage.is_dir(directory):
        storage.replace(directory, prev)
    storage.replace(new_dir, directory)


def version_of(directory):
    """The version in `directory`'s manifest, or None if there is no readable one."""
    try:
        return read_manifest(directory).get("version")
    except (ModelError, AttributeError):
        return None


def roll_back(directory):
    """Drop the current model; `<directory>.prev` (if any) becomes current again. A power cut
    in between leaves only `.prev`, which load_current restores."""
    storage.remove(directory)
    prev = directory + ".prev"
    if storage.is_dir(prev):
        storage.replace(prev, directory)
