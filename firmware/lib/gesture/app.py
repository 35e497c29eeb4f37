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
from gesture import hal, identity, modelstore, netboot, probation, storage, telemetry
from gesture.capture import Capture
from gesture.detector import Detector
from gesture.mpu6500 import MPU6500
from gesture.outbox import Outbox
from gesture.ring import SampleRing
from gesture.sampler import Sampler
from gesture.spec import CAPTURE_HZ, STEP_MS
from gesture.uplink import Uplink

HEARTBEAT_RETRY_MS = 1000  # a heartbeat the full flash refused is tried again this soon


def log(*parts):
    print(*parts)


def check_model(manifest, score):
    """Raise unless this manifest and model can run here: the Detector accepts the manifest and
    the model scores a window into one vote count per class adding up to the manifest's
    score_scale (see Detector.check)."""
    Detector(manifest, score).check()


class App:
    """Everything the device runs, wired from a configuration dict and a board."""

    def __init__(self, cfg, board, clock_synced=True, net=netboot):
        self.cfg = cfg
        self.board = board
        self.net = net
        # Until NTP has answered, event times are boot-relative (`boot_ms`) and nothing is
        # sent; at the sync those of this boot get their wall time, once (see try_clock_sync).
        self.clock_synced = clock_synced
        self.ring = SampleRing(cfg["ring_samples"])
        self.imu = MPU6500(board.i2c, sleep_ms=None if board.simulated else time.sleep_ms)
        self.sampler = Sampler(self.imu, self.ring)
        self.replay = cfg["mode"] == "replay"
        self.detector = None
        self.model_version = "none"
        self.scorer = None
        self.model_errors = 0  # inference faults of models that are no longer running
        self._index_base = 0  # ring index of the current detector's sample 0
        self.trial = None if self.replay else probation.Trial(cfg["model_dir"])
        if self.trial is not None:
            self._recover_trial()
        self._load_current()
        self.t0_ms = cfg["t0_ms"]
        self.events_sent = 0
        self.errors = 0  # loop iterations that raised (board)
        self._on_event_cb = self._on_detector_event
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
        if not cfg["tls_verify"]:
            httpclient.set_unverified(True)
            log("gs-insecure tls_verify=false: HTTPS servers are not authenticated")
        if cfg["api_url"].startswith("http://"):
            log("gs-insecure allow_http=true: the key and events travel in plain text")
        self.identity = identity.Identity(cfg["data_dir"])
        log(f"gs-boot {self.identity.boot}")

        data, url, key = cfg["data_dir"], cfg["api_url"].rstrip("/"), cfg["api_key"]
        base, top = cfg["backoff_ms"]
        reserve, dead = cfg["flash_reserve_bytes"], cfg["dead_letter_records"]
        self.events = Outbox(
            data, "events", cfg["events_capacity"], "seq", reserve=reserve, dead_capacity=dead
        )
        # heartbeats may use most of the reserve: they are few (telemetry_capacity) and they
        # are what reports the events a full flash refused
        self.telemetry = Outbox(
            data, "telemetry", cfg["telemetry_capacity"], reserve=reserve // 8, dead_capacity=dead
        )
        self.samples = Outbox(
            data, "samples", cfg["samples_capacity"], reserve=reserve, dead_capacity=dead
        )
        api = httpclient.Session()  # one kept-alive connection (one TLS handshake) for all three
        self.uplinks = (
            Uplink(self.events, url + "/events", key, "events", cfg["batch_size"], base, top, api),
            Uplink(self.telemetry, url + "/telemetry", key, None, 1, base, top, api),
            Uplink(self.samples, url + "/samples", key, None, 1, base, top, api),
        )
        for uplink in self.uplinks:
            uplink.timeout_s = cfg["http_timeout_s"]
            uplink.auth_retry_ms = cfg["auth_retry_s"] * 1000
        self.ota = Ota(
            url,
            key,
            cfg["model_dir"],
            check_model,
            self.trial,
            cfg["http_timeout_s"],
            cfg["ota_deadline_s"],
            cfg["ota_chunk_bytes"],
            cfg["max_model_bytes"],
            cfg["ota_wait_ms"],
            reserve=cfg["flash_reserve_bytes"],
        )
        cap = cfg["capture"]
        if cap["enabled"]:
            self.capture = Capture(self.ring, cap["pre_ms"], cap["post_ms"], cap["near_miss"])
            self.capture.label = cap.get("label")

    # -- the model: trial, probation, fallback ------------------------------------------
    def _recover_trial(self):
        """At boot: a version still "trying" did not survive its import or probation (the board
        was reset meanwhile): it is bad. A bad current model gives way to the previous one."""
        model_dir, trial = self.cfg["model_dir"], self.trial
        if trial.trying is not None:
            log(f"gs-model rejected version={trial.trying} reason=reset while on trial")
            trial.reject(trial.trying)
        storage.remove(model_dir + ".new")
        current = modelstore.version_of(model_dir)
        if current is not None and trial.is_bad(current):
            log(f"gs-model rolled back from version={current}")
            modelstore.roll_back(model_dir)

    def _load_current(self):
        try:
            self.set_model(*modelstore.load_current(self.cfg["model_dir"], check_model))
        except modelstore.ModelError as exc:
            if self.replay:
                raise
            self.detector, self.scorer, self.model_version = None, None, "none"
            log(f"gs-model none ({exc}): waiting for OTA")

    def set_model(self, manifest, score, on_probation=False):
        """Run this model from the next sample on; a new one (OTA) runs on probation."""
        self.manifest = manifest
        self.model_version = manifest["version"]
        if not self.replay:
            if self.scorer is not None:
                self.model_errors += self.scorer.errors
            cfg = self.cfg
            trial = cfg["probation_inferences"] if on_probation else 0
            budget, scale = cfg["inference_budget_ms"], manifest.get("score_scale", 1)
            score = probation.Scorer(score, manifest["classes"], budget, trial, scale)
            self.scorer = score
        self.detector = Detector(manifest, score)
        self._index_base = self.ring.consumed
        self._inferences = 0
        log("gs-model version=" + self.model_version)

    def judge_model(self):
        """End a probation: passed (trusted from now on) or failed (back to the previous)."""
        scorer = self.scorer
        if scorer is None or not scorer.on_probation:
            return
        if scorer.failed:
            version = self.model_version
            self._record_verdict(self.trial.reject, version)
            log(f"gs-model rejected version={version} reason={scorer.failed}")
            modelstore.roll_back(self.cfg["model_dir"])
            self._load_current()
        elif scorer.passed:
            scorer.on_probation = False
            self._record_verdict(self.trial.passed)
            log(f"gs-model trusted version={self.model_version}")
        else:
            return
        self.next_heartbeat = self.board.ticks_ms()  # the fleet hears of the verdict at once

    def _record_verdict(self, write, *args):
        """Write a verdict to flash; a full flash does not stop it taking effect: the "trying"
        marker stays, so the next boot rejects the version (never runs it untested)."""
        try:
            write(*args)
        except OSError as exc:
            log(f"gs-model verdict not recorded ({exc!r}): the next boot rejects this version")

    def model_telemetry(self):
        """Heartbeat fields about the model: faults so far and the versions refused."""
        errors = self.model_errors + (self.scorer.errors if self.scorer else 0)
        return {"model_errors": errors, "model_rejected": list(self.trial.bad)}

    def _on_detector_event(self, ev):
        # detector indices count from its own start; events count from the ring's
        self.on_event((ev[0] + self._index_base, ev[1], ev[2]))

    # -- per-sample path -------------------------------------------------------------
    def _stamp(self, record, index):
        """Wall time if the clock is valid, else the time since boot (resolved at the sync)."""
        if self.clock_synced:
            record["t_ms"] = self.t0_ms + index * STEP_MS
            return f"t_ms={record['t_ms']}"
        record["boot_ms"] = index * STEP_MS
        if "id" not in record:  # a heartbeat: which boot its boot_ms belongs to
            record["boot"] = self.identity.boot
        return f"boot_ms={record['boot_ms']}"

    def on_event(self, ev):
        index, gesture, score = ev
        if self.replay:
            t_ms = self.t0_ms + index * STEP_MS
            print(json.dumps({"t_ms": t_ms, "gesture": gesture, "score": score}))
            return
        event_id = self.identity.next_id()
        if event_id is None:  # the boot counter is not on flash yet (full): no safe id
            self.events.refuse()
            log(
                f"gs-dropped gesture={gesture} reason=flash-full (boot counter not written)"
                f" dropped={self.events.dropped} dropped_full={self.events.dropped_full}"
            )
            return
        record = {
            "id": event_id,
            "gesture": gesture,
            "score": float(score),
            "model_version": self.model_version,
        }
        when = self._stamp(record, index)
        events = self.events
        dropped = events.dropped
        seq = events.put(record)
        if seq is None:
            log(
                f"gs-dropped seq={record['seq']} id={record['id']} gesture={gesture}"
                f" reason=flash-full dropped={events.dropped} dropped_full={events.dropped_full}"
            )
            return
        log(f"gs-queued seq={seq} id={record['id']} gesture={gesture} {when}")
        if events.dropped > dropped:
            log(f"gs-dropped oldest reason=queue-full dropped={events.dropped}")
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
            self.capture.check_near_miss(
                index, det.last_proba, det.classes, self.model_version, det.scale
            )
        return n

    # -- periodic services -----------------------------------------------------------
    def uptime_s(self):
        return self.board.ticks_diff(self.board.ticks_ms(), self.started_ms) // 1000

    def heartbeat(self):
        record = telemetry.heartbeat(
            self.ring,
            self.uptime_s(),
            self.model_version,
            len(self.events),
            self.events.dropped,
            self.events.dead,
            sum(u.auth_failures for u in self.uplinks),
            self.detector.classes if self.detector else (),
        )
        self._stamp(record, self.ring.written)
        record.update(self.model_telemetry())
        events = self.events
        record["dropped_full"] = events.dropped_full
        record["dead_evicted"] = events.dead_evicted
        if self.telemetry.put(record) is None:
            log("gs-dropped heartbeat reason=flash-full: another in 1 s")
            # the counts it carried go with the next one, as soon as there is room
            self.next_heartbeat = time.ticks_add(self.board.ticks_ms(), HEARTBEAT_RETRY_MS)
            return
        log(
            f"gs-telemetry queue_len={len(events)} dropped={events.dropped}"
            f" dropped_full={events.dropped_full} dead_letters={events.dead}"
            f" dead_evicted={events.dead_evicted} auth_failures={record['auth_failures']}"
        )

    def service_ota(self, now):
        """Start a model check when one is due; otherwise one bounded step of the one running."""
        ota = self.ota
        try:
            if not ota.busy:
                if self.board.ticks_diff(now, self.next_ota) < 0:
                    return
                self.next_ota = time.ticks_add(now, self.cfg["ota_period_s"] * 1000)
                ota.begin(now, self.model_version)
            new = ota.step(now)
        except Exception as exc:  # OSError, OtaError, ModelError, bad JSON: keep the model
            ota.abort()
            log(f"gs-ota failed: {exc!r} steps={ota.steps}")
            return
        if new is not None:
            self.set_model(*new, on_probation=True)
            log(f"gs-ota installed version={self.model_version} steps={ota.steps}")

    def service_network(self, now):
        for uplink in self.uplinks:
            before, failures, rejected = uplink.sent, uplink.failures, uplink.rejected
            auth = uplink.auth_failures
            if uplink.service(now):
                if uplink is self.uplinks[0]:
                    self.events_sent += uplink.sent - before
                log(f"gs-sent {uplink.url} n={uplink.sent - before}")
            elif uplink.auth_failures > auth:
                log(
                    f"gs-auth-rejected {uplink.url} status={uplink.last_status}: the API key was"
                    f" rejected; {len(uplink.outbox)} records kept, next try in"
                    f" {uplink.last_wait_ms // 1000} s"
                )
            elif uplink.rejected > rejected:
                log(
                    f"gs-dead-letter {uplink.url} n={uplink.rejected - rejected}"
                    f" status={uplink.last_status} file={uplink.outbox.dead_path}"
                )
            elif uplink.failures > failures:
                log(
                    f"gs-retry {uplink.url} failures={uplink.failures} last={uplink.last_status}"
                    f" wait_ms={uplink.last_wait_ms}"
                )
        if self.capture:
            record = self.capture.poll(self.t0_ms)
            if record is not None and self.samples.put(record) is None:
                log(f"gs-dropped capture reason=flash-full dropped={self.samples.dropped}")

    def pending(self):
        return sum(len(u.outbox) for u in self.uplinks)

    # -- main loop -------------------------------------------------------------------
    def start(self):
        if self.t0_ms is None and (self.replay or self.clock_synced):
            self.t0_ms = 0 if self.replay else self.net.epoch_ms()
        self.started_ms = self.board.ticks_ms()
        self.next_heartbeat = self.started_ms
        self.next_ota = self.started_ms
        # boot() has just tried NTP: the next try is one retry period away
        self.next_clock = time.ticks_add(self.started_ms, self.cfg["clock_retry_s"] * 1000)
        if self.clock_synced and not self.replay:
            self.resolve_times()  # records of earlier boots that never had a clock
        self.sampler.start(self.board, CAPTURE_HZ)

    def step(self):
        """One loop iteration: samples, then whatever network work is due."""
        if self.replay:
            self.process_samples()
            return
        try:
            self.process_samples()
        except Exception as exc:  # inference never stops sampling, delivery or OTA
            self._inference_failed(exc)
        self.judge_model()
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
        self.service_ota(now)
        self.service_network(now)

    def _inference_failed(self, exc):
        """Skip the samples not yet detected on and start the detector afresh; counted."""
        self.model_errors += 1
        log(f"gs-error inference {exc!r}")
        self.ring.consumed = self.ring.written
        if self.detector is not None:
            self.detector = Detector(self.manifest, self.detector.score)
        self._index_base = self.ring.consumed

    def try_clock_sync(self):
        """Retry Wi-Fi and NTP; on success resolve the boot-relative times, once.

        Only records without a wall time change: those of this boot get t0 + boot_ms; those of
        an earlier boot that ended before its clock was set cannot be placed in time and are
        flagged `clock: "unresolved"` (sent so, the API stores them at the time received).
        A record that already has a t_ms (made with a valid clock) is never touched."""
        self.net.kick_wifi(self.cfg["wifi"])
        if not self.net.sync_time(self.cfg["ntp_host"], retries=1, log=log):
            return
        self.t0_ms = self.net.epoch_ms() - self.ring.written * STEP_MS
        self.clock_synced = True
        self.resolve_times()

    def resolve_times(self):
        """Give queued boot-relative records their time (see try_clock_sync); once per boot."""
        t0 = self.t0_ms
        boot = self.identity.boot
        counts = [0, 0]

        def resolve(record):
            if "t_ms" in record or "boot_ms" not in record or "clock" in record:
                return
            if "id" in record:
                same_boot = identity.boot_of(record["id"]) == boot
            else:
                same_boot = record.pop("boot", None) == boot
            if same_boot:
                record["t_ms"] = t0 + record.pop("boot_ms")
                counts[0] += 1
            elif "id" in record:
                record["clock"] = "unresolved"
                counts[1] += 1
            else:  # a heartbeat of an earlier boot: the sync time is the best we know
                record["t_ms"] = t0 + self.ring.written * STEP_MS
                del record["boot_ms"]

        for uplink in self.uplinks:
            uplink.outbox.update_records(resolve)
        log(f"gs-clock synced: t0_ms={t0} resolved={counts[0]} unresolved={counts[1]}")

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
                self.loop_once(dog)
        self.sampler.stop()
        self.process_samples()
        if not self.replay:
            log("gs-recording-end samples=" + str(self.ring.written))
            self.drain(self.cfg["drain_s"])

    def loop_once(self, dog):
        """One pass of the board's loop: a failing iteration (e.g. flash full) is logged and
        counted and the loop goes on; the watchdog resets the board if the loop stops."""
        dog.feed()
        try:
            self.step()
        except Exception as exc:  # keep sampling; the queues are on flash
            self.errors += 1
            log(f"gs-error {exc!r}")
            self.board.sleep_ms(1000)
        self.board.sleep_ms(self.cfg["loop_ms"])

    def auth_stopped(self):
        """True when every route with something queued is stopped by a rejected key."""
        waiting = [u for u in self.uplinks if len(u.outbox)]
        return bool(waiting) and all(u.auth_rejected for u in waiting)

    def drain(self, max_s):
        """Simulation end: keep delivering (real time passes too) until queues are empty."""
        deadline = time.ticks_add(time.ticks_ms(), int(max_s * 1000))
        while (
            self.pending()
            and not self.auth_stopped()
            and time.ticks_diff(deadline, time.ticks_ms()) > 0
        ):
            now = self.board.ticks_ms()
            if self.clock_synced:
                self.service_network(now)
            elif self.board.ticks_diff(now, self.next_clock) >= 0:
                self.next_clock = time.ticks_add(now, self.cfg["clock_retry_s"] * 1000)
                self.try_clock_sync()
            self.board.sleep_ms(50)
            time.sleep_ms(50)
        events = self.events
        auth = [u.auth_rejected for u in self.uplinks if u.auth_rejected]
        log(
            f"gs-done sent={self.events_sent} pending={len(events)} dropped={events.dropped}"
            f" dropped_full={events.dropped_full} dead_letters={events.dead}"
            f" dead_evicted={events.dead_evicted}"
            f" auth={'rejected ' + str(auth[0]) if auth else 'ok'}"
        )


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
