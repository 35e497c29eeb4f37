"""The fleet's vocabulary: the gesture names of every published model release.

Kept with the releases (storage_layout.VOCABULARY_KEY) and grown at each publication, never
shrunk: a device may still run an older model. Pure functions; the bucket is behind ModelStore.
"""

from __future__ import annotations

from collections.abc import Iterable

from functions.exceptions import InvalidInput
from functions.models.common import ItemError

IDLE = "idle"  # a model's class for "no gesture": never an event
SCHEMA = 1


def gestures_of(classes: Iterable[str]) -> list[str]:
    """The gestures among a manifest's classes (idle left out), sorted."""
    return sorted({c for c in classes if c != IDLE})


def merged(document: dict | None, version: str, classes: Iterable[str]) -> dict:
    """The vocabulary document after publishing `version` with `classes`."""
    document = document or {}
    gestures = set(document.get("gestures", [])) | set(gestures_of(classes))
    versions = dict(document.get("versions", {})) | {version: gestures_of(classes)}
    return {"schema": SCHEMA, "gestures": sorted(gestures), "versions": versions}


def check_known(names: Iterable[tuple[str, str]], known: frozenset[str]) -> None:
    """400 naming every gesture no published model knows; names are (field, gesture) in item
    order (one InvalidInput, an ItemError per bad item)."""
    allowed = ", ".join(sorted(known)) or "none (no model published yet)"
    bad = [
        ItemError(
            index=index, field=field,
            message=f"unknown gesture {name!r}: the fleet's models know {allowed}",
        )
        for index, (field, name) in enumerate(names)
        if name not in known
    ]  # fmt: skip
    if bad:
        raise InvalidInput(bad[0].message, field=bad[0].field, errors=bad)
