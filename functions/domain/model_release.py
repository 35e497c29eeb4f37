"""GET /model: the ETag of a release and whether the device already has it."""

from __future__ import annotations


def etag(version: str) -> str:
    """Strong ETag of a release: the version (the URL's query picks the file)."""
    return f'"{version}"'


def not_modified(if_none_match: str | None, current: str) -> bool:
    """True when the If-None-Match header lists the current ETag (or is "*")."""
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or current in tags


def file_entry(manifest: dict, file_name: str) -> dict:
    """sha256 and size of a model file as the manifest records them (empty if it does not)."""
    entry = (manifest.get("files") or {}).get(file_name) or {}
    return {"sha256": entry.get("sha256"), "bytes": entry.get("bytes")}
