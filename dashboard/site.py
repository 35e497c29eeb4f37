"""What the dashboard site is: the files it serves at which paths, with which headers.

One home for these facts, read by every server of the page (the local cloud, the tests) and by
publish.py (the deployed bucket):

    answer = site.respond(path, api="", key=dashboard_key)   # (status, headers, body) or None

`None` means the path is not the dashboard's (hand it to the API). Libraries come from
node_modules as dashboard/vendor.json maps them ("<name>": "<path under node_modules>"),
served at /vendor/<name>.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE.parent / "node_modules"
PAGE_FILES = ("index.html", "app.js", "style.css")
VENDOR_FILE = HERE / "vendor.json"
VENDOR_PREFIX = "/vendor/"
CONFIG_PATH = "/dashboard-config.json"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
}
# The deployed page gets the same policy from CloudFront (infra/dashboard.yml; a test pins it).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)


def vendor() -> dict[str, Path]:
    """Library name -> its file in node_modules (dashboard/vendor.json); a mapping that points
    outside node_modules is left out."""
    mapping = json.loads(VENDOR_FILE.read_text())
    root = NODE_MODULES.resolve()
    found = {}
    for name, relative in mapping.items():
        path = (root / relative).resolve()
        if path.is_relative_to(root) and "/" not in name.strip("/"):
            found[name.strip("/")] = path
    return found


def files() -> dict[str, Path]:
    """URL path -> file, for every file of the site but the config document."""
    found = {"/": HERE / "index.html"}
    found |= {f"/{name}": HERE / name for name in PAGE_FILES}
    found |= {f"{VENDOR_PREFIX}{name}": path for name, path in vendor().items()}
    return found


def config_document(api: str, key: str | None) -> bytes:
    """GET /dashboard-config.json: the API base URL ("" = same origin) and, locally, the key."""
    return json.dumps({"api": api, "key": key}).encode()


def headers(path: str) -> dict[str, str]:
    """Response headers of a site path: type, no caching of the (small, changing) page, CSP."""
    suffix = Path(path if path != "/" else "/index.html").suffix
    return {
        "Content-Type": CONTENT_TYPES.get(suffix, "application/octet-stream"),
        "Cache-Control": "no-cache",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }


def respond(path: str, api: str = "", key: str | None = None) -> tuple[int, dict, bytes] | None:
    """(status, headers, body) for a GET of a dashboard path, or None if it is not one."""
    path = path.split("?", 1)[0]
    if path == CONFIG_PATH:
        return 200, headers(path) | {"Cache-Control": "no-store"}, config_document(api, key)
    file = files().get(path)
    if file is None:
        return None
    if not file.is_file():
        body = json.dumps({"message": f"{path} is missing: run `make install`"}).encode()
        return 404, {"Content-Type": "application/json"}, body
    return 200, headers(path), file.read_bytes()
