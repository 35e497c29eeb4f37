"""MPU6500 driver against a fake register map, under micropython."""

import pytest
from fw_harness import mp_test_names, run_mp_test


@pytest.mark.parametrize("name", mp_test_names("mp_driver"))
def test_driver(name, tmp_path):
    run_mp_test("mp_driver", name, tmp_path)
