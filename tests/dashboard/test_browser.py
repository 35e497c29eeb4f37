"""The dashboard in headless Chromium: what a person sees after a device posted."""

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest
from conftest import now_ms
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard.browser import open_dashboard, save_screenshot, screenshot
from functions import storage_layout, wiring
from functions.settings import get_settings

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "build" / "dashboard.png"
GESTURES = ("circle", "x", "y")
VERSION = "20251124120000-0badc0de"


def publish_model(cloud, tmp_path, version=VERSION):
    folder = tmp_path / version
    folder.mkdir()
    files = {"model.py": b"def score(input):\n    return [1.0]\n", "model.mpy": b"M\x06demo"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    manifest = {
        "schema": 1, "version": version, "created": "2025-11-24T12:00:00+00:00",
        "files": {n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)}
                  for n, d in files.items()},
    }  # fmt: skip
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return cloud.api.publish_model(folder)


def write_promotion(run_id, version, reason):
    """The record the pipeline's retrain job writes (pipeline/jobs/retrain.py)."""
    key = storage_layout.run_record_key(run_id, storage_layout.RUN_PROMOTION_REPORT)
    report = {"run_id": run_id, "promoted": True, "reason": reason,
              "candidate": {"version": version, "score": 0.93}}  # fmt: skip
    wiring.s3().put_object(Bucket=get_settings().data_bucket, Key=key, Body=json.dumps(report))


def simulate_device(cloud, name, n_events, gestures=GESTURES):
    """A device's posts with its own key: gesture events in batches and one heartbeat."""
    key = cloud.api.add_device(name)
    start = now_ms() - 40 * 60_000
    events = [
        {"seq": i, "gesture": gestures[(i * 7 + i // 3) % len(gestures)],
         "t_ms": start + i * 9_000, "score": 0.9, "model_version": VERSION}
        for i in range(n_events)
    ]  # fmt: skip
    for first in range(0, n_events, 25):
        cloud.call("POST", "/events", key, {"events": events[first : first + 25]})
    heartbeat = {"t_ms": now_ms() - 2000, "acc_rms": {"x": 0.11, "y": 0.07, "z": 9.81},
                 "free_heap": 81_920, "uptime_s": 1200, "model_version": VERSION,
                 "queue_len": 1, "dropped": 0}  # fmt: skip
    cloud.call("POST", "/telemetry", key, heartbeat)
    return key


def stored_counts(cloud):
    """(device, gesture) -> events the API has stored, read back page by page (GET /events)."""
    found, cursor = Counter(), None
    while True:
        query = f"/events?limit=500&from={now_ms() - 86_400_000}" + (
            f"&cursor={cursor}" if cursor else ""
        )
        page = cloud.call("GET", query, cloud.dashboard_key)
        found.update((e["device_id"], e["gesture"]) for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def cell_text(driver, selector):
    return driver.find_element(By.CSS_SELECTOR, selector).text


@pytest.fixture
def fleet(local_cloud, tmp_path):
    cloud = local_cloud(config_key=True)
    publish_model(cloud, tmp_path)
    write_promotion("nightly-001", VERSION, "candidate scores 0.9300 > current 0.8800")
    simulate_device(cloud, "dev-1", 60)
    simulate_device(cloud, "dev-2", 23, gestures=("x", "y"))
    return cloud


def test_local_dashboard_shows_the_devices_counts_and_model(fleet):
    stored = stored_counts(fleet)
    assert sum(stored.values()) == 83
    with open_dashboard(fleet.url + "/") as driver:
        health = driver.find_elements(By.CSS_SELECTOR, "#health tbody tr")
        assert [row.get_attribute("data-device") for row in health] == ["dev-1", "dev-2"]
        dev1 = driver.find_element(By.CSS_SELECTOR, '#health tr[data-device="dev-1"]')
        assert "s ago" in dev1.find_element(By.CSS_SELECTOR, ".seen").text
        assert dev1.find_element(By.CSS_SELECTOR, ".heap").text == "80.0 KB"
        assert dev1.find_element(By.CSS_SELECTOR, ".model").text == VERSION
        for (device, gesture), n in stored.items():
            selector = f'#counts tr[data-device="{device}"] td[data-gesture="{gesture}"]'
            assert cell_text(driver, selector) == str(n), (device, gesture)
        assert cell_text(driver, '#counts tr[data-device="dev-2"] td[data-gesture="circle"]') == "0"
        assert cell_text(driver, "#tile-events") == "83"
        assert cell_text(driver, "#tile-model") == VERSION
        model = driver.find_element(By.CSS_SELECTOR, f'#models tr[data-version="{VERSION}"]')
        assert "current" in model.text and "0.9300 > current 0.8800" in model.text
        assert "nightly-001" in cell_text(driver, "#runs tbody")
        assert driver.execute_script("return Object.keys(Chart.instances).length") == 2
        save_screenshot(driver, SCREENSHOT)
    assert SCREENSHOT.stat().st_size > 20_000


def test_choosing_a_device_counts_only_its_events(fleet):
    with open_dashboard(fleet.url + "/") as driver:
        driver.find_element(By.CSS_SELECTOR, '#device option[value="dev-2"]').click()
        WebDriverWait(driver, 20).until(lambda d: cell_text(d, "#tile-events") == "23")
        rows = driver.find_elements(By.CSS_SELECTOR, "#counts tbody tr")
        assert [r.get_attribute("data-device") for r in rows] == ["dev-2"]


def test_new_events_appear_without_reloading(fleet):
    with open_dashboard(fleet.url + "/") as driver:
        assert cell_text(driver, "#tile-events") == "83"
        simulate_device(fleet, "dev-3", 5)
        driver.execute_script("document.getElementById('range').dispatchEvent(new Event('change'))")
        WebDriverWait(driver, 20).until(lambda d: cell_text(d, "#tile-events") == "88")
        assert driver.find_elements(By.CSS_SELECTOR, '#health tr[data-device="dev-3"]')


def test_deployed_dashboard_asks_for_the_key_once_and_keeps_it_in_the_session(local_cloud):
    cloud = local_cloud(config_key=False)
    device_key = cloud.api.add_device("dev-9")
    with open_dashboard(cloud.url + "/") as driver:
        assert driver.find_element(By.ID, "login").is_displayed()
        driver.find_element(By.ID, "key").send_keys(device_key)
        driver.find_element(By.CSS_SELECTOR, "#key-form button").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "key-error").text)
        assert "dashboard key" in driver.find_element(By.ID, "key-error").text
        assert driver.execute_script("return sessionStorage.length") == 0
        driver.find_element(By.ID, "key").clear()
        driver.find_element(By.ID, "key").send_keys(cloud.dashboard_key)
        driver.find_element(By.CSS_SELECTOR, "#key-form button").click()
        WebDriverWait(driver, 20).until(lambda d: d.find_element(By.ID, "board").is_displayed())
        stored = driver.execute_script("return Object.values(sessionStorage)")
        assert stored == [cloud.dashboard_key]
        assert driver.execute_script("return localStorage.length") == 0
        driver.refresh()  # same tab: no second prompt
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script("return document.body.dataset.loaded === 'true'")
        )
        assert not driver.find_element(By.ID, "login").is_displayed()
        assert driver.find_elements(By.CSS_SELECTOR, '#health tr[data-device="dev-9"]')


def test_screenshot_helper_writes_the_page(fleet, tmp_path):
    out = screenshot(fleet.url + "/", tmp_path / "shot.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
