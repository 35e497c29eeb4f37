"""Device configuration: a JSON file on flash (not in git), merged over these defaults."""

import json

DEFAULTS = {
    "mode": "device",  # "device": sample, detect and deliver; "replay": print events only
    "api_url": None,
    "api_key": None,
    "tls_ca": None,  # CA certificate (DER file on flash) that HTTPS servers must chain to
    # Without tls_ca HTTPS fails closed. Both of these are explicit, logged choices to weaken it:
    "tls_verify": True,  # False: HTTPS without checking the server (encrypted, not authenticated)
    "allow_http": False,  # True: an http:// api_url (plain text: key and events readable)
    "wifi": {"ssid": None, "password": None, "timeout_s": 20, "retries": 3},
    "ntp_host": "pool.ntp.org",
    "cpu_mhz": 240,
    "i2c": {"id": 0, "scl": 22, "sda": 21, "freq": 400000},
    "data_dir": "data",  # outboxes and their state
    "model_dir": "model",  # current model; "<model_dir>.prev" keeps the previous one
    "ring_samples": 512,  # 5.12 s of 100 Hz history (6 KB)
    "loop_ms": 50,  # main loop period: each pass hands ~5 samples to the detector
    "events_capacity": 500,
    "telemetry_capacity": 24,
    "samples_capacity": 3,
    # Full flash: an event or capture that would leave less free flash than this is not queued
    # (counted in dropped_full); the reserve keeps the queues' state files and heartbeats
    # (which may use 7/8 of it: they report the loss) writable.
    "flash_reserve_bytes": 16384,
    "dead_letter_records": 50,  # per dead-letter file; the one before is kept: <= 2 x this
    "batch_size": 20,
    "backoff_ms": [500, 60000],
    "http_timeout_s": 5,
    "telemetry_period_s": 60,
    "ota_period_s": 3600,
    "ota_deadline_s": 120,  # a whole model check and download, on the board's clock
    "ota_chunk_bytes": 1024,  # OTA reads at most this much per loop iteration
    "ota_wait_ms": 20,  # ... and waits at most this long for it (keep well below loop_ms)
    "max_model_bytes": 131072,  # a release promising a bigger model file is refused
    "probation_inferences": 100,  # a new model's first inferences (5 s at 20 Hz) are its trial
    "inference_budget_ms": 20,  # a score() call slower than this counts as slow
    "clock_retry_s": 60,  # NTP retry while event times are provisional
    "auth_retry_s": 3600,  # after a 401/403 a route is tried again only this much later
    "watchdog_s": 60,  # board only: reset if the main loop stalls this long
    # label: record examples of this gesture (may be one no model knows): every motion onset
    # gets a window labelled so (reason "manual") instead of detections and near-misses
    "capture": {"enabled": False, "near_miss": 0.4, "pre_ms": 1000, "post_ms": 500, "label": None},
    "t0_ms": None,  # epoch ms of sample 0; None: the clock at start
    "drain_s": 30,  # unix port: how long to keep delivering after the recording ends
}

REQUIRED_FOR_DEVICE = ("api_url", "api_key")


def merge(defaults, overrides):
    """Defaults with overrides applied; nested dicts merge key by key."""
    out = dict(defaults)
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def load(path):
    """The configuration in `path` over DEFAULTS; ValueError if it is unusable."""
    try:
        with open(path) as f:
            overrides = json.load(f)
    except OSError:
        raise ValueError("no configuration file " + path) from None
    if not isinstance(overrides, dict):
        raise ValueError(path + ": the configuration must be a JSON object")
    return validate(merge(DEFAULTS, overrides))


def validate(cfg):
    if cfg["mode"] not in ("device", "replay"):
        raise ValueError("mode must be 'device' or 'replay'")
    if cfg["mode"] == "device":
        for key in REQUIRED_FOR_DEVICE:
            if not cfg.get(key):
                raise ValueError("configuration needs " + key)
        if cfg["api_url"].startswith("http://") and not cfg["allow_http"]:
            raise ValueError("api_url is plain http: set allow_http true to send in plain text")
    if cfg["ring_samples"] < 200:
        raise ValueError("ring_samples must be at least 200 (2 s of history)")
    return cfg
