"""The device application: sample at 100 Hz, detect gestures, queue and deliver events,
telemetry and captures, update the model over the air.

`main(config_path)` runs it; on the unix port the board is simulated (a recording replayed
through a fake MPU6500, a fake clock) and the run ends when the recording does.
Grep-able log lines start with `gs-`.
"""

import gc
import json
import time

from gesture import config as config_mod
from gesture import hal, modelstore, netboot, storage, telemetry
from gesture.capture import Capture
from gesture.detector import Detector
from gesture.mpu6500 import MPU6500
from gesture.outbox import Outbox
from gesture.ring import SampleRing
from gesture.sampler import Sampler
from gesture.uplink import Uplink

CAPTURE_HZ = 100
STEP_MS = 10


def log(*parts):
    print(*parts)


def check_model(manifest, score):
    """Raise unless this manifest and model can run here: the Detector accepts the manifest and
    the model scores a window into one probability per class."""
    det = Detector(manifest, score)
    proba = score(det.features.new_vector())
    if len(proba) != len(det.classes):
        raise ValueError(f"model gives {len(proba)} probabilities for {len(det.classes)} classes")


class App:
    """Everything the device runs, wired from a configuration dict and a board."""

    def __init__(self, cfg, board, clock_synced=True, net=netboot):
        self.cfg = cfg
        self.board = board
        self.net = net
        # Until NTP has answered, event times are provisional: nothing is sent (the API would
        # reject them); once synced, queued times are shifted onto the real clock.
        self.clock_synced = clock_synced
        self.ring = SampleRing(cfg["ring_samples"])
        self.imu = MPU6500(board.i2c, sleep_ms=None if board.simulated else time.sleep_ms)
        self.sampler = Sampler(self.imu, self.ring)
        self.replay = cfg["mode"] == "replay"
        self.detector = None
        self.model_version = "none"
        try:
            self.set_model(*modelstore.load_current(cfg["model_dir"], check_model))
        except modelstore.ModelError as exc:
            if self.replay:
                raise
            log(f"gs-model none ({exc}): waiting for OTA")
        self.t0_ms = cfg["t0_ms"]
        self.events_sent = 0
        self._on_event_cb = self.on_event
        self.capture = None
        self.uplinks = ()
        if not self.replay:
            self._init_network(cfg)

    def _init_network(self, cfg):
        from gesture import httpclient
        from gesture.ota import Ota

        if cfg["tls_ca"]:
            with open(cfg["tls_ca"], "rb") as f:
                httpclient.set_ca(f.read())

        data, url, key = cfg["data_dir"], cfg["api_url"].rstrip("/"), cfg["api_key"]
        base, top = cfg["backoff_ms"]
        self.events = Outbox(data, "events", cfg["events_capacity"], seq_field="seq")
        self.telemetry = Outbox(data, "telemetry", cfg["telemetry_capacity"])
        self.samples = Outbox(data, "samples", cfg["samples_capacity"])
        api = httpclient.Session()  # one kept-alive connection (one TLS handshake) for all three
        self.uplinks = (
            Uplink(self.events, url + "/events", key, "events", cfg["batch_size"], base, top, api),
            Uplink(self.telemetry, url + "/telemetry", key, None, 1, base, top, api),
            Uplink(self.samples, url + "/samples", key, None, 1, base, top, api),
        )
        for uplink in self.uplinks:
            uplink.timeout_s = cfg["http_timeout_s"]
        self.ota = Ota(url, key, cfg["model_dir"], cfg["http_timeout_s"], check_model)
        cap = cfg["capture"]
        if cap["enabled"]:
            self.capture = Capture(self.ring, cap["pre_ms"], cap["post_ms"], cap["near_miss"])
            self.capture.label = cap.get("label")

    def set_model(self, manifest, score):
        self.manifest = manifest
        self.model_version = manifest["version"]
        self.detector = Detector(manifest, score)
        self._inferences = 0
        log("gs-model version=" + self.model_version)

    # -- per-sample path -------------------------------------------------------------
    def on_event(self, ev):
        index, gesture, score = ev
        t_ms = self.t0_ms + index * STEP_MS
        if self.replay:
            print(json.dumps({"t_ms": t_ms, "gesture": gesture, "score": score}))
            return
        record = {
            "gesture": gesture,
            "t_ms": t_ms,
            "score": float(score),
            "model_version": self.model_version,
        }
        seq = self.events.put(record)
        log(f"gs-queued seq={seq} gesture={gesture} t_ms={t_ms}")
        if self.capture:
            self.capture.trigger(index, gesture, "detection", self.model_version)

    def process_samples(self):
        """Drain the ring into the detector; near-miss captures after new inferences."""
        det = self.detector
        if self.capture and self.capture.label and self.ring.written:
            self.capture.check_motion(self.ring.written - 1, self.model_version)
        if det is None:  # no model yet: keep the history for telemetry, detect nothing
            n = self.ring.pending()
            self.ring.consumed = self.ring.written
            return n
        n = self.sampler.drain(det, self._on_event_cb)
        if self.capture and det.inferences != self._inferences and det.last_proba:
            self._inferences = det.inferences
            index = self.ring.consumed - 1
            self.capture.check_near_miss(index, det.last_proba, det.classes, self.model_version)
        return n

    # -- periodic services -----------------------------------------------------------
    def uptime_s(self):
        return self.board.ticks_diff(self.board.ticks_ms(), self.started_ms) // 1000

    def heartbeat(self):
        record = telemetry.heartbeat(
            self.t0_ms + self.ring.written * STEP_MS,
            self.ring,
            self.uptime_s(),
            self.model_version,
            len(self.events),
            self.events.dropped,
            self.manifest["classes"] if self.manifest else (),
        )
        self.telemetry.put(record)
        log(f"gs-telemetry queue_len={len(self.events)} dropped={self.events.dropped}")

    def check_model(self):
        try:
            new = self.ota.check(self.model_version)
        except Exception as exc:  # OSError, OtaError, bad JSON: keep the current model
            log(f"gs-ota failed: {exc!r}")
            return
        if new is not None:
            self.set_model(*new)
            log("gs-ota installed version=" + self.model_version)

    def service_network(self, now):
        for uplink in self.uplinks:
            before, failures = uplink.sent, uplink.failures
            if uplink.service(now):
                if uplink is self.uplinks[0]:
                    self.events_sent += uplink.sent - before
                log(f"gs-sent {uplink.url} n={uplink.sent - before}")
            elif uplink.failures > failures:
                log(f"gs-retry {uplink.url} failures={uplink.failures} last={uplink.last_status}")
        if self.capture:
            record = self.capture.poll(self.t0_ms)
            if record is not None:
                self.samples.put(record)

    def pending(self):
        return sum(len(u.outbox) for u in self.uplinks)

    # -- main loop -------------------------------------------------------------------
    def start(self):
        if self.t0_ms is None:
            self.t0_ms = 0 if self.replay else self.net.epoch_ms()
        self.started_ms = self.board.ticks_ms()
        self.next_heartbeat = self.started_ms
        self.next_ota = self.started_ms
        self.next_clock = self.started_ms
        self.sampler.start(self.board, CAPTURE_HZ)

    def step(self):
        """One loop iteration: samples, then whatever network work is due."""
        self.process_samples()
        if self.replay:
            return
        board, cfg = self.board, self.cfg
        now = board.ticks_ms()
        if board.ticks_diff(now, self.next_heartbeat) >= 0:
            self.next_heartbeat = time.ticks_add(now, cfg["telemetry_period_s"] * 1000)
            self.heartbeat()
        if not self.clock_synced:
            if board.ticks_diff(now, self.next_clock) >= 0:
                self.next_clock = time.ticks_add(now, self.cfg["clock_retry_s"] * 1000)
                self.try_clock_sync()
            return
        if board.ticks_diff(now, self.next_ota) >= 0:
            self.next_ota = time.ticks_add(now, cfg["ota_period_s"] * 1000)
            self.check_model()
        self.service_network(now)

    def try_clock_sync(self):
        """Retry Wi-Fi and NTP; on success move every queued time onto the real clock."""
        self.net.kick_wifi(self.cfg["wifi"])
        if not self.net.sync_time(self.cfg["ntp_host"], retries=1, log=log):
            return
        t0 = self.net.epoch_ms() - self.ring.written * STEP_MS
        delta = t0 - self.t0_ms
        self.t0_ms = t0

        def shift(record):
            record["t_ms"] += delta

        for uplink in self.uplinks:
            uplink.outbox.update_records(shift)
        self.clock_synced = True
        log(f"gs-clock synced: queued times moved by {delta} ms")

    def run(self):
        """Run until the simulated recording ends (forever on the board), then drain outboxes.

        On the board a failing iteration (e.g. flash full) is logged and the loop goes on; the
        hardware watchdog resets the board if the loop stops being fed.
        """
        self.start()
        board = self.board
        if board.simulated:
            while not board.exhausted:
                self.step()
                board.sleep_ms(self.cfg["loop_ms"])
        else:
            dog = board.watchdog(self.cfg["watchdog_s"])
            while True:
                dog.feed()
                try:
                    self.step()
                except Exception as exc:  # keep sampling; the queues are on flash
                    log(f"gs-error {exc!r}")
                    board.sleep_ms(1000)
                board.sleep_ms(self.cfg["loop_ms"])
        self.sampler.stop()
        self.process_samples()
        if not self.replay:
            log("gs-recording-end samples=" + str(self.ring.written))
            self.drain(self.cfg["drain_s"])

    def drain(self, max_s):
        """Simulation end: keep delivering (real time passes too) until queues are empty."""
        deadline = time.ticks_add(time.ticks_ms(), int(max_s * 1000))
        while self.pending() and time.ticks_diff(deadline, time.ticks_ms()) > 0:
            now = self.board.ticks_ms()
            if self.clock_synced:
                self.service_network(now)
            elif self.board.ticks_diff(now, self.next_clock) >= 0:
                self.next_clock = time.ticks_add(now, self.cfg["clock_retry_s"] * 1000)
                self.try_clock_sync()
            self.board.sleep_ms(50)
            time.sleep_ms(50)
        events = self.events
        log(f"gs-done sent={self.events_sent} pending={len(events)} dropped={events.dropped}")


def boot(cfg):
    """Board bring-up on the ESP32: CPU clock, Wi-Fi, NTP (no-ops on the unix port).
    Returns True when the clock is synced."""
    netboot.set_cpu(cfg["cpu_mhz"])
    if cfg["mode"] != "device":
        return True
    if not netboot.connect_wifi(cfg["wifi"], log):
        log("gs-wifi failed: events queue on flash until the network is back")
        return False
    if not netboot.sync_time(cfg["ntp_host"], log=log):
        log("gs-ntp failed: event times are provisional until it answers")
        return False
    return True


def main(config_path="config.json"):
    cfg = config_mod.load(config_path)
    storage.makedirs(cfg["data_dir"])
    synced = boot(cfg)
    gc.collect()
    app = App(cfg, hal.board(cfg), clock_synced=synced)
    app.run()
    return app
