"""Ring buffer, sampling and decimation under micropython."""

import pytest
from fw_harness import mp_test_names, run_mp_test


@pytest.mark.parametrize("name", mp_test_names("mp_sampling"))
def test_sampling(name, tmp_path):
    run_mp_test("mp_sampling", name, tmp_path)
