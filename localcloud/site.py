"""The dashboard as the local cloud serves it: the static folder `dashboard/` at `/`, browser
libraries from node_modules under `/vendor/`, and `/dashboard-config.json`.

Which node_modules files the page loads is the dashboard's own choice, in one place:
`dashboard/vendor.json`, `{"<name under /vendor/>": "<path under node_modules/>"}`.
"""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path

from localcloud.stack import REPO

DASHBOARD = REPO / "dashboard"
NODE_MODULES = REPO / "node_modules"
VENDOR_MAP = DASHBOARD / "vendor.json"
CONFIG_PATH = "/dashboard-config.json"
_SERVED = {".html", ".js", ".mjs", ".css", ".svg", ".png", ".ico", ".json", ".map", ".woff2"}


def vendor_files() -> dict[str, Path]:
    """`/vendor/<name>` -> the node_modules file (only files inside node_modules)."""
    if not VENDOR_MAP.is_file():
        return {}
    mapping = json.loads(VENDOR_MAP.read_text())
    files = {}
    for name, relative in mapping.items():
        path = (NODE_MODULES / relative).resolve()
        if path.is_relative_to(NODE_MODULES.resolve()):
            files[name.strip("/")] = path
    return files


def _inside(folder: Path, relative: str) -> Path | None:
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        return None
    return path if path.suffix in _SERVED else None


def serve(path: str, config: Callable[[], dict]) -> tuple | None:
    """(status, headers, body) for a dashboard path, or None if it is not one."""
    if path == CONFIG_PATH:
        body = json.dumps(config()).encode()
        return 200, {"Content-Type": "application/json", "Cache-Control": "no-store"}, body
    if path.startswith("/vendor/"):
        found = vendor_files().get(path.removeprefix("/vendor/"))
    else:
        found = _inside(DASHBOARD, path.lstrip("/") or "index.html")
        if found is not None and found == VENDOR_MAP.resolve():
            found = None
    if found is None or not found.is_file():
        return None
    kind = mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    return 200, {"Content-Type": kind, "Cache-Control": "no-cache"}, found.read_bytes()
