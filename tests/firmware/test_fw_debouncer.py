"""The debouncer against hand-written expected events (not a second implementation), under
micropython: threshold equality, gaps, refractory, the class vote, the time offset."""

import pytest
from fw_harness import mp_test_names, run_mp_test


@pytest.mark.parametrize("name", mp_test_names("mp_debouncer"))
def test_debouncer(name, tmp_path):
    run_mp_test("mp_debouncer", name, tmp_path)
