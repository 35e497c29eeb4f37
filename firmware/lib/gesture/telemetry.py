"""Heartbeat records: acceleration RMS per axis over the recent sample history, free heap,
uptime, firmware and model version, queue length, dropped and dead-lettered events,
rejected-key answers (the API's Telemetry model)."""

import gc
import math

from gesture import units
from gesture.spec import FIRMWARE_VERSION


def acc_rms(ring, count):
    """RMS (m/s^2) of acc x, y, z over the last `count` samples in the ring."""
    count = min(count, ring.written, ring.capacity)
    if count == 0:
        return {"x": 0.0, "y": 0.0, "z": 0.0}
    buf = ring.buf
    sums = [0.0, 0.0, 0.0]
    for index in range(ring.written - count, ring.written):
        o = (index % ring.capacity) * 6
        for axis in range(3):
            v = buf[o + axis]
            sums[axis] += v * v
    k = units.ACC_SI_PER_LSB
    return {
        "x": math.sqrt(sums[0] / count) * k,
        "y": math.sqrt(sums[1] / count) * k,
        "z": math.sqrt(sums[2] / count) * k,
    }


def heartbeat(
    ring, uptime_s, model_version, queue_len, dropped, dead_letters, auth_failures, gestures=()
):
    """One telemetry record (the caller stamps its time); `gestures`: the running model's
    vocabulary (its classes; idle left out)."""
    return {
        "acc_rms": acc_rms(ring, ring.capacity),
        "free_heap": gc.mem_free(),
        "uptime_s": uptime_s,
        "firmware_version": FIRMWARE_VERSION,
        "model_version": model_version,
        "queue_len": queue_len,
        "dropped": dropped,
        "dead_letters": dead_letters,
        "auth_failures": auth_failures,
        "gestures": [g for g in gestures if g != "idle"],
    }
