"""ESP32-only code paths against stand-ins for machine/network/ntptime, under micropython."""

import pytest
from fw_harness import mp_test_names, run_mp_test


@pytest.mark.parametrize("name", mp_test_names("mp_board"))
def test_board(name, tmp_path):
    run_mp_test("mp_board", name, tmp_path)
