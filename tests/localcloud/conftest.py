"""A local cloud per test (in memory, or with a state folder), and raw HTTP helpers."""

from __future__ import annotations

import pytest

from localcloud.server import LocalCloud


@pytest.fixture
def cloud():
    lines: list[str] = []
    with LocalCloud(port=0, log=lines.append, pipeline=False) as local:
        local.lines = lines
        yield local


def pytest_collection_modifyitems(items):
    """Powertools warns on every request without metrics (as in tests/api)."""
    quiet = pytest.mark.filterwarnings("ignore:No application metrics to publish")
    for item in items:
        if "tests/localcloud/" in item.nodeid:
            item.add_marker(quiet)
