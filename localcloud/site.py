"""The dashboard as the local cloud serves it: `dashboard/` at `/`, browser libraries from
node_modules under `/vendor/` (as dashboard/vendor.json maps them), and `/dashboard-config.json`.

Which files, types and headers make the site is the dashboard's own fact, in one place:
dashboard/site.py (the deployed bucket gets the same files through dashboard/publish.py).
"""

from __future__ import annotations

from collections.abc import Callable

from dashboard import site


def serve(path: str, config: Callable[[], dict]) -> tuple | None:
    """(status, headers, body) for a dashboard path, or None if it is not one."""
    settings = config()  # the cloud's URL and its dashboard key: cheap to ask each time
    return site.respond(path, api=settings["api"], key=settings["key"])
