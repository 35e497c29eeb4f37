"""Telemetry, capture and configuration under micropython."""

import pytest
from fw_harness import mp_test_names, run_mp_test


@pytest.mark.parametrize("name", mp_test_names("mp_services"))
def test_services(name, tmp_path):
    run_mp_test("mp_services", name, tmp_path)
