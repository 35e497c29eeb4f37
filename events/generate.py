"""Rewrite the sample API Gateway events in events/<function>/<case>.json.

    .venv/bin/python events/generate.py

Each file is a REST proxy event exactly as API Gateway delivers it. `devices.json` lists the API
key ids the samples use; tests and local_handlers register them before running a sample.
Times are fixed relative to requestTimeEpoch (the handlers' "now"), so the samples never expire.
"""

import json
from pathlib import Path

from localcloud.lambda_runtime import rest_event

HERE = Path(__file__).resolve().parent
NOW_MS = 1_764_028_800_000  # 2025-11-25T00:00:00Z, the samples' request time
DEVICES = [
    {"api_key_id": "k1esp32a01", "device_id": "esp32-a01", "role": "device"},
    {"api_key_id": "k1esp32b02", "device_id": "esp32-b02", "role": "device"},
    {"api_key_id": "k1dashbrd0", "device_id": "dashboard", "role": "dashboard"},
]
DEVICE_A, DEVICE_B, DASHBOARD = (d["api_key_id"] for d in DEVICES)


def event(method, path, body=None, key=DEVICE_A, query=None, headers=None, request_id="0"):
    headers = {
        "Accept": "application/json",
        "Host": "abcdef1234.execute-api.eu-west-1.amazonaws.com",
        "User-Agent": "gesture-stack-firmware/1.0 (MicroPython; esp32)",
        "X-Amzn-Trace-Id": "Root=1-6744c000-0123456789abcdef01234567",
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        **({"Content-Type": "application/json"} if body is not None else {}),
        **(headers or {}),
    }
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    result = rest_event(
        method, path, query=query, headers=headers, body=raw, api_key_id=key, stage="dev"
    )
    result["requestContext"].update(
        requestTimeEpoch=NOW_MS,
        requestId=f"c0ffee00-0000-4000-8000-{int(request_id):012d}",
        extendedRequestId=f"sample{request_id}",
        apiId="abcdef1234",
        domainName="abcdef1234.execute-api.eu-west-1.amazonaws.com",
    )
    result["requestContext"]["identity"]["apiKey"] = "redacted-sample-key-value"
    return result


def gesture(seq, name="circle", ago_s=0, boot=7):
    """An event as today's firmware sends it (id = boot counter and number in that boot);
    boot=None: as firmware before event ids sent it (seq and t_ms only)."""
    event = {
        "seq": seq,
        "gesture": name,
        "t_ms": NOW_MS - 300_000 + (seq % 100) * 1500 - ago_s * 1000,
        "score": 0.91,
        "model_version": "20251120093000-1a2b3c4d",
    }
    return event if boot is None else {"id": f"{boot}-{seq}", **event}


def unresolved(seq, boot_ms):
    """An event detected before the clock was set, in a boot that ended before it was."""
    event = gesture(seq, boot=6)
    del event["t_ms"]
    return event | {"clock": "unresolved", "boot_ms": boot_ms}


BATCH = {"events": [gesture(100), gesture(101, "x"), gesture(102, "y")]}
LEGACY_BATCH = {"events": [gesture(s, boot=None) for s in (100, 101, 102)]}
HEARTBEAT = {
    "t_ms": NOW_MS - 5000,
    "acc_rms": {"x": 0.12, "y": 0.08, "z": 9.79},
    "free_heap": 61_440,
    "uptime_s": 3605,
    "model_version": "20251120093000-1a2b3c4d",
    "queue_len": 2,
    "dropped": 0,
}
WINDOW = {
    "t_ms": NOW_MS - 2000,
    "rate_hz": 100,
    "units": "raw",
    "signals": ["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"],
    "values": [[120 + i, -40, 16390 - i, 3 * i, -2, 1] for i in range(8)],
    "label": "circle",
    "reason": "near_miss",
    "model_version": "20251120093000-1a2b3c4d",
}

SAMPLES = {
    "health/valid": event("GET", "/health", key=None),
    "ingest/valid": event("POST", "/events", BATCH, request_id="1"),
    "ingest/duplicate": event("POST", "/events", BATCH, request_id="2"),
    "ingest/legacy": event("POST", "/events", LEGACY_BATCH, request_id="7"),
    "ingest/unresolved-clock": event(
        "POST", "/events", {"events": [unresolved(90, 41_250), gesture(103)]}, request_id="8"
    ),
    "ingest/bad-some-events": event(
        "POST",
        "/events",
        {
            "events": [
                gesture(103),
                gesture(104, ago_s=40 * 86400),
                gesture(105),
                gesture(106) | {"gesture": "square"},
            ]
        },
    ),
    "ingest/bad-gesture": event(
        "POST", "/events", {"events": [gesture(103) | {"gesture": "square"}]}
    ),
    "ingest/bad-duplicate-seq": event("POST", "/events", {"events": [gesture(5), gesture(5)]}),
    "ingest/bad-too-old": event("POST", "/events", {"events": [gesture(7, ago_s=40 * 86400)]}),
    "ingest/bad-json": event("POST", "/events", '{"events": [{"seq": 1,'),
    "ingest/bad-empty": event("POST", "/events", {"events": []}),
    "ingest/forbidden-other-device": event("POST", "/events", BATCH | {"device_id": "esp32-b02"}),
    "telemetry/valid": event("POST", "/telemetry", HEARTBEAT, request_id="3"),
    "telemetry/duplicate": event("POST", "/telemetry", HEARTBEAT, request_id="4"),
    "telemetry/bad": event("POST", "/telemetry", HEARTBEAT | {"free_heap": "lots"}),
    "samples/valid": event("POST", "/samples", WINDOW, request_id="5"),
    "samples/duplicate": event("POST", "/samples", WINDOW, request_id="6"),
    "samples/bad": event("POST", "/samples", WINDOW | {"values": [[1, 2, 3]]}),
    "query/valid": event("GET", "/events", query={"device_id": ["esp32-a01"], "limit": ["2"]}),
    "query/fleet": event(
        "GET",
        "/events",
        key=DASHBOARD,
        query={"from": [str(NOW_MS - 3_600_000)], "to": [str(NOW_MS)], "limit": ["50"]},
    ),
    "query/bad": event("GET", "/events", query={"limit": ["0"], "cursor": ["not-a-cursor"]}),
    "query/forbidden-other-device": event("GET", "/events", query={"device_id": ["esp32-b02"]}),
    "model/valid": event("GET", "/model"),
    "model/not-modified": event(
        "GET", "/model", headers={"If-None-Match": '"20251124120000-0badc0de"'}
    ),
    "model/bad": event("GET", "/model", query={"file": ["model.exe"]}),
    "devices/valid": event("GET", "/devices", key=DASHBOARD),
    "devices/forbidden-device-key": event("GET", "/devices"),
    "counts/valid": event(
        "GET",
        "/events/counts",
        key=DASHBOARD,
        query={"from": [str(NOW_MS - 3_600_000)], "to": [str(NOW_MS)]},
    ),
    "counts/one-device": event(
        "GET", "/events/counts", key=DASHBOARD, query={"device_id": ["esp32-a01"]}
    ),
    "counts/bad": event(
        "GET", "/events/counts", key=DASHBOARD, query={"from": [str(NOW_MS)], "to": ["0"]}
    ),
    "counts/forbidden-device-key": event("GET", "/events/counts"),
    "releases/valid": event("GET", "/models", key=DASHBOARD),
    "releases/forbidden-device-key": event("GET", "/models"),
}


def main() -> None:
    (HERE / "devices.json").write_text(json.dumps(DEVICES, indent=2) + "\n")
    for name, sample in SAMPLES.items():
        path = HERE / f"{name}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(sample, indent=2) + "\n")


if __name__ == "__main__":
    main()
