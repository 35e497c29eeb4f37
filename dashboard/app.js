// gesture-stack fleet dashboard: polls the read API and draws what it answers.
// Config: GET dashboard-config.json -> {"api": base URL ("" = this origin), "key": key | null}.
// With no key in the config, the dashboard key is asked for once and kept in sessionStorage.

const POLL_MS = 10_000;
const CLOCK_SKEW_MS = 5 * 60_000; // devices may be a little ahead; the API allows 5 minutes
const STALE_MS = 5 * 60_000; // a device not heard from for this long is marked stale
const KEY_STORE = "gesture-stack.dashboard-key";
const GESTURE_COLORS = ["#2f6fde", "#e8833a", "#2aa876", "#c2409b", "#8a6be0", "#d4b106", "#5b8c9e"];

const $ = (id) => document.getElementById(id);
const state = { api: "", key: null, timer: null, charts: {}, gestures: [] };

class AuthError extends Error {}

async function main() {
  const config = await (await fetch("dashboard-config.json", { cache: "no-store" })).json();
  state.api = (config.api || "").replace(/\/$/, "");
  state.key = config.key || sessionStorage.getItem(KEY_STORE);
  state.keyFromConfig = Boolean(config.key);
  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = $("key").value.trim();
    sessionStorage.setItem(KEY_STORE, state.key);
    start();
  });
  for (const id of ["range", "device"]) $(id).addEventListener("change", () => refresh());
  if (state.key) start();
  else askForKey();
}

function askForKey(message) {
  clearTimeout(state.timer);
  $("board").hidden = true;
  $("login").hidden = false;
  $("key-error").hidden = !message;
  $("key-error").textContent = message || "";
  $("status").textContent = "dashboard key needed";
}

function start() {
  $("login").hidden = true;
  $("board").hidden = false;
  refresh();
}

async function get(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null));
  const url = `${state.api}${path}${query.size ? `?${query}` : ""}`;
  const response = await fetch(url, { headers: { "x-api-key": state.key }, cache: "no-store" });
  if (response.status === 403) {
    const body = await response.json().catch(() => ({}));
    throw new AuthError(body.message || "this key is not a dashboard key");
  }
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function refresh() {
  clearTimeout(state.timer);
  const to = Date.now() + CLOCK_SKEW_MS;
  const from = to - Number($("range").value);
  const device = $("device").value;
  try {
    const [devices, counts, models] = await Promise.all([
      get("/devices"),
      get("/events/counts", { from, to, device_id: device }),
      get("/models"),
    ]);
    drawDevices(devices.items);
    drawCounts(counts);
    drawModels(models);
    $("status").textContent = `updated ${new Date().toLocaleTimeString()} · every ${POLL_MS / 1000} s`;
    $("status").classList.remove("error");
    document.body.dataset.loaded = "true";
  } catch (error) {
    if (error instanceof AuthError) {
      if (!state.keyFromConfig) sessionStorage.removeItem(KEY_STORE);
      askForKey(error.message);
      return;
    }
    $("status").textContent = `update failed: ${error.message}; retrying`;
    $("status").classList.add("error");
  }
  state.timer = setTimeout(refresh, POLL_MS);
}

// ---- devices and health -------------------------------------------------------------

function drawDevices(items) {
  $("tile-devices").textContent = items.length;
  const select = $("device");
  const chosen = select.value;
  const ids = items.map((d) => d.device_id);
  const options = [["", "all devices"], ...ids.map((id) => [id, id])];
  if (select.options.length !== options.length || ids.some((id, i) => select.options[i + 1].value !== id)) {
    select.replaceChildren(...options.map(([value, text]) => new Option(text, value, false, value === chosen)));
  }
  const now = Date.now();
  $("health").tBodies[0].replaceChildren(
    ...items.map((d) => {
      const h = d.health || {};
      const seen = h.received_at ? Date.parse(h.received_at) : null;
      const row = tr(
        [
          d.device_id,
          seen ? ago(now - seen) : "never",
          h.acc_rms ? `${fixed(h.acc_rms.x)} / ${fixed(h.acc_rms.y)} / ${fixed(h.acc_rms.z)}` : "-",
          h.free_heap != null ? `${(h.free_heap / 1024).toFixed(1)} KB` : "-",
          num(h.queue_len),
          num(h.dropped),
          num(h.auth_failures),
          num(h.dead_letters),
          h.model_version ? `${h.model_version}${h.model_errors ? ` (${h.model_errors} errors)` : ""}` : "-",
          h.firmware_version || "-",
        ],
        ["name", "seen", "rms", "heap", "queue", "dropped", "auth", "dead", "model", "firmware"],
      );
      row.dataset.device = d.device_id;
      if (seen) row.cells[1].title = new Date(seen).toLocaleString();
      if (!seen || now - seen > STALE_MS) row.classList.add("stale");
      for (const i of [5, 6, 7]) if (Number(row.cells[i].textContent) > 0) row.cells[i].classList.add("bad");
      return row;
    }),
  );
  if (!items.length) $("health").tBodies[0].replaceChildren(emptyRow(10, "no devices yet"));
}

// ---- counts and charts ---------------------------------------------------------------

function drawCounts(counts) {
  $("tile-events").textContent = counts.events.toLocaleString();
  $("incomplete").hidden = counts.complete;
  const gestures = [...new Set(counts.series.map((s) => s.gesture))].sort();
  for (const g of gestures) if (!state.gestures.includes(g)) state.gestures.push(g);
  const devices = [...new Set(counts.series.map((s) => s.device_id))].sort();
  const total = (device, gesture) =>
    counts.series.filter((s) => (!device || s.device_id === device) && (!gesture || s.gesture === gesture))
      .reduce((sum, s) => sum + s.total, 0);

  const table = $("counts");
  table.tHead.replaceChildren(tr(["device", ...gestures, "total"], null, "th"));
  table.tBodies[0].replaceChildren(
    ...devices.map((device) => {
      const row = tr([device, ...gestures.map((g) => total(device, g)), total(device)]);
      row.dataset.device = device;
      gestures.forEach((g, i) => (row.cells[i + 1].dataset.gesture = g));
      row.cells[gestures.length + 1].dataset.gesture = "total";
      return row;
    }),
  );
  if (!devices.length) table.tBodies[0].replaceChildren(emptyRow(2, "no events in this range"));
  table.tFoot.replaceChildren(
    devices.length > 1 ? tr(["all", ...gestures.map((g) => total(null, g)), total()], null, "th") : "",
  );

  const labels = counts.buckets.map((t) => bucketLabel(t, counts.bucket_ms));
  const overTime = gestures.map((g) => ({
    label: g,
    backgroundColor: color(g),
    data: counts.buckets.map((_, i) =>
      counts.series.filter((s) => s.gesture === g).reduce((sum, s) => sum + s.counts[i], 0),
    ),
  }));
  chart("chart-time", "bar", labels, overTime, { x: { ticks: { maxTicksLimit: 12 } } });
  const perDevice = gestures.map((g) => ({
    label: g,
    backgroundColor: color(g),
    data: devices.map((d) => total(d, g)),
  }));
  chart("chart-devices", "bar", devices, perDevice, {}, { indexAxis: "y" });
}

function chart(id, type, labels, datasets, scales = {}, extra = {}) {
  const existing = state.charts[id];
  if (existing) {
    existing.data.labels = labels;
    existing.data.datasets = datasets;
    existing.update("none");
    return;
  }
  state.charts[id] = new window.Chart($(id), {
    type,
    data: { labels, datasets },
    options: {
      animation: false,
      maintainAspectRatio: false,
      plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { precision: 0 }, ...scales.x },
        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
      },
      ...extra,
    },
  });
}

// ---- models and pipeline runs ----------------------------------------------------------

function drawModels(models) {
  $("tile-model").textContent = models.current || "none yet";
  $("models").tBodies[0].replaceChildren(
    ...models.versions.map((v) => {
      const row = tr([
        v.version,
        when(v.created),
        when(v.published_at),
        v.reason || (v.run_id ? "-" : "published without a pipeline run"),
        v.run_id || "-",
      ]);
      row.dataset.version = v.version;
      if (v.current) {
        row.classList.add("current");
        row.cells[0].append(badge("current"));
      }
      return row;
    }),
  );
  if (!models.versions.length) $("models").tBodies[0].replaceChildren(emptyRow(5, "no model yet"));
  const runs = models.runs;
  const last = runs[0];
  $("tile-run").textContent = last ? (last.time ? ago(Date.now() - Date.parse(last.time)) : "running") : "none yet";
  $("tile-run-id").textContent = last ? `${last.run_id} · ${outcomeOf(last)}` : "";
  $("runs").tBodies[0].replaceChildren(
    ...runs.map((r) => {
      const outcome = outcomeOf(r);
      const row = tr([r.run_id, r.time ? when(r.time) : "running", num(r.collected_events),
        num(r.collected_windows), r.candidate_version ? `${r.candidate_version} (${fixed(r.candidate_score, 4)})` : "-",
        r.reason ? `${outcome}: ${r.reason}` : outcome]);
      row.dataset.run = r.run_id;
      if (r.promoted) row.classList.add("current");
      return row;
    }),
  );
  if (!runs.length) $("runs").tBodies[0].replaceChildren(emptyRow(6, "no pipeline runs yet"));
}

const outcomeOf = (run) => (run.promoted == null ? "collected only" : run.promoted ? "promoted" : "kept current");

// ---- small helpers -------------------------------------------------------------------

function tr(values, classes = null, cell = "td") {
  const row = document.createElement("tr");
  values.forEach((value, i) => {
    const el = document.createElement(cell);
    el.textContent = String(value);
    if (classes) el.className = classes[i];
    row.append(el);
  });
  return row;
}

function emptyRow(span, text) {
  const row = tr([text]);
  row.cells[0].colSpan = span;
  row.className = "empty";
  return row;
}

function badge(text) {
  const el = document.createElement("span");
  el.className = "badge";
  el.textContent = text;
  return el;
}

const color = (gesture) => GESTURE_COLORS[state.gestures.indexOf(gesture) % GESTURE_COLORS.length];
const num = (value) => (value == null ? "-" : String(value));
const fixed = (value, digits = 2) => (value == null ? "-" : Number(value).toFixed(digits));
const when = (iso) => (iso ? new Date(iso).toLocaleString([], { dateStyle: "medium", timeStyle: "short" }) : "-");

function ago(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

function bucketLabel(t, size) {
  const d = new Date(t);
  if (size >= 86_400_000) return d.toLocaleDateString([], { month: "short", day: "numeric" });
  const time = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return size >= 3_600_000 ? `${d.toLocaleDateString([], { weekday: "short" })} ${time}` : time;
}

main().catch((error) => {
  $("status").textContent = `cannot start: ${error.message}`;
  $("status").classList.add("error");
});
