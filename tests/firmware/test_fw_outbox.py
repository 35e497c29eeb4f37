"""Persistent outbox under micropython."""

import pytest
from fw_harness import mp_test_names, run_mp_test


@pytest.mark.parametrize("name", mp_test_names("mp_outbox"))
def test_outbox(name, tmp_path):
    run_mp_test("mp_outbox", name, tmp_path)
