"""functions.storage_layout: the S3 keys the API, the local API and the pipeline share."""

import pytest

from functions import storage_layout as layout


def test_raw_sample_key_round_trips_and_partitions_by_device_and_utc_day():
    key = layout.raw_sample_key("esp32-a01", 1_764_028_799_999, "ab" * 32)
    assert key == (
        "raw/samples/device=esp32-a01/date=2025-11-24/1764028799999-abababababababab.json"
    )
    assert layout.parse_raw_sample_key(key) == {
        "device_id": "esp32-a01",
        "date": "2025-11-24",
        "t_ms": 1_764_028_799_999,
        "digest": "abababababababab",
    }
    next_day = layout.raw_sample_key("esp32-a01", 1_764_028_800_000, "cd" * 32)
    assert "/date=2025-11-25/" in next_day


@pytest.mark.parametrize("key", ["raw/samples/x.json", "models/current.json", ""])
def test_other_keys_are_not_raw_samples(key):
    with pytest.raises(ValueError):
        layout.parse_raw_sample_key(key)


def test_model_keys_and_pointer():
    assert layout.model_file_key("20251124-1a2b", "model.mpy") == "models/20251124-1a2b/model.mpy"
    assert layout.current_pointer("v1") == {"schema": 1, "version": "v1", "prefix": "models/v1/"}
    with pytest.raises(ValueError):
        layout.model_prefix("../escape")
