"""The committed example configuration is complete and valid for the firmware."""

import json

from fw_harness import FIRMWARE
from gesture import config

SIMULATION_ONLY = {"recording", "t0_ms", "drain_s"}


def test_example_config_names_every_setting_and_validates():
    example = json.loads((FIRMWARE / "config.example.json").read_text())
    assert set(example) == set(config.DEFAULTS) - SIMULATION_ONLY
    for key, value in example.items():
        if isinstance(value, dict):
            assert set(value) == set(config.DEFAULTS[key]), key
    cfg = config.validate(config.merge(config.DEFAULTS, example))
    assert cfg["i2c"]["scl"] == 22 and cfg["i2c"]["sda"] == 21


def test_config_json_is_not_in_git():
    ignored = (FIRMWARE.parent / ".gitignore").read_text().splitlines()
    assert "firmware/config.json" in ignored
