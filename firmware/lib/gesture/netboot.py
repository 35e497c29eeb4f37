"""Boot-time services on the ESP32: CPU frequency, Wi-Fi with timeout and retry, NTP time.
On the unix port each step is a no-op that reports success."""

import sys
import time

ESP32 = sys.platform == "esp32"
# MicroPython on the ESP32 counts time from 2000-01-01; the API wants ms since 1970-01-01.
EPOCH_OFFSET_S = 946684800 if time.gmtime(0)[0] == 2000 else 0


def set_cpu(mhz):
    if ESP32 and mhz:
        import machine

        machine.freq(mhz * 1000000)


def connect_wifi(wifi, log=print):
    """Connect to the configured network; True when connected, False after every retry."""
    if not ESP32:
        return True
    import network

    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    for attempt in range(wifi.get("retries", 3)):
        if wlan.isconnected():
            return True
        log("wifi: connecting to {} (attempt {})".format(wifi["ssid"], attempt + 1))
        wlan.connect(wifi["ssid"], wifi["password"])
        deadline = time.ticks_add(time.ticks_ms(), wifi.get("timeout_s", 20) * 1000)
        while not wlan.isconnected() and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            time.sleep_ms(200)
        if wlan.isconnected():
            log("wifi: connected " + wlan.ifconfig()[0])
            return True
        wlan.disconnect()
        time.sleep_ms(1000 << attempt)
    return False


def kick_wifi(wifi):
    """Start a reconnect in the background if the station is down (never blocks)."""
    if not ESP32:
        return
    import network

    wlan = network.WLAN(network.STA_IF)
    if not wlan.isconnected():
        wlan.active(True)
        try:  # noqa: SIM105 - no contextlib on MicroPython
            wlan.connect(wifi["ssid"], wifi["password"])
        except OSError:
            pass  # already connecting


def sync_time(host, retries=3, log=print):
    """Set the RTC from NTP; True on success."""
    if not ESP32:
        return True
    import ntptime

    ntptime.host = host
    for _ in range(retries):
        try:
            ntptime.settime()
            return True
        except OSError as exc:
            log(f"ntp: {exc}")
            time.sleep_ms(1000)
    return False


def epoch_ms():
    """Wall-clock ms since 1970-01-01 (valid after sync_time on the device)."""
    return time.time_ns() // 1000000 + EPOCH_OFFSET_S * 1000
