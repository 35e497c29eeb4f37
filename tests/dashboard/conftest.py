"""Fixtures for the browser tests: the real local cloud (`gesture-stack up`) with a fleet
that posted, and a CloudFront-like front for the deployed flow (helpers: dashboard_cloud.py)."""

import json
import re

import pytest
from dashboard_cloud import CloudFrontLike, cli, start_up, stop


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """`up`, two devices that posted events and a heartbeat, one pipeline run that collected
    them and promoted a better (fake) model."""
    fleet = start_up(tmp_path_factory.mktemp("local-cloud"))
    try:
        fleet.add_device("dev-1")
        fleet.add_device("dev-2")
        fleet.post_events("dev-1", 60)
        fleet.post_events("dev-2", 23, gestures=("x", "y"))
        fleet.post_heartbeat("dev-1")
        fleet.post_heartbeat("dev-2", free_heap=40_960, dropped=2)
        run_input = {"run_data_collect": True, "run_data_process": True,
                     "training": {"fake": {"score": 0.9}}}  # fmt: skip
        out = cli("pipeline", "--endpoint", fleet.url, "--input", json.dumps(run_input))
        fleet.run_id = re.search(r"started (\S+)", out).group(1)
        fleet.collected = int(re.search(r"collected events=(\d+)", out).group(1))
        yield fleet
    finally:
        stop(fleet.process)


@pytest.fixture
def cloudfront_like(fleet):
    front = CloudFrontLike(fleet.url)
    yield front
    front.close()
