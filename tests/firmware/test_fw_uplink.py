"""Uplink batching, backoff and rejection under micropython."""

import pytest
from fw_harness import mp_test_names, run_mp_test


@pytest.mark.parametrize("name", mp_test_names("mp_uplink"))
def test_uplink(name, tmp_path):
    run_mp_test("mp_uplink", name, tmp_path)
