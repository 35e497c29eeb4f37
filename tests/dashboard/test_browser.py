"""The dashboard in headless Chromium on `gesture-stack up`: what a person sees after devices
posted and a pipeline run collected their events and promoted a model."""

import re
import urllib.request
from pathlib import Path

from dashboard_cloud import REPO, call
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dashboard import site
from dashboard.browser import open_dashboard, save_screenshot, screenshot

SCREENSHOT = REPO / "build" / "dashboard.png"


def text(driver, selector: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, selector).text


def loaded_again(driver) -> None:
    """Wait for the next poll's answer to be drawn."""
    driver.execute_script("document.body.dataset.loaded = 'false'")
    driver.execute_script("document.getElementById('range').dispatchEvent(new Event('change'))")
    WebDriverWait(driver, 30).until(
        lambda d: d.execute_script("return document.body.dataset.loaded === 'true'")
    )


def test_local_dashboard_shows_the_devices_counts_model_and_run(fleet):
    stored = fleet.stored_counts()
    assert sum(stored.values()) == fleet.collected == 83
    version = fleet.current_model()
    with open_dashboard(fleet.dashboard_url) as driver:
        health = driver.find_elements(By.CSS_SELECTOR, "#health tbody tr")
        assert [row.get_attribute("data-device") for row in health] == ["dev-1", "dev-2"]
        dev2 = driver.find_element(By.CSS_SELECTOR, '#health tr[data-device="dev-2"]')
        assert re.fullmatch(r"\d+ (s|min) ago", dev2.find_element(By.CSS_SELECTOR, ".seen").text)
        assert dev2.find_element(By.CSS_SELECTOR, ".heap").text == "40.0 KB"
        assert dev2.find_element(By.CSS_SELECTOR, ".dropped").text == "2"
        assert dev2.find_element(By.CSS_SELECTOR, ".rms").text == "0.11 / 0.07 / 9.81"
        for (device, gesture), n in stored.items():
            cell = f'#counts tr[data-device="{device}"] td[data-gesture="{gesture}"]'
            assert text(driver, cell) == str(n), (device, gesture)
        assert text(driver, '#counts tr[data-device="dev-2"] td[data-gesture="circle"]') == "0"
        assert text(driver, "#tile-events") == "83"
        assert text(driver, "#tile-model") == version
        model = driver.find_element(By.CSS_SELECTOR, f'#models tr[data-version="{version}"]')
        assert "current" in model.text and "0.9000 > current 0.5000" in model.text
        assert fleet.run_id in model.text
        run = driver.find_element(By.CSS_SELECTOR, f'#runs tr[data-run="{fleet.run_id}"]')
        assert run.find_elements(By.TAG_NAME, "td")[2].text == "83"
        assert "promoted" in run.text
        assert driver.execute_script("return Object.keys(Chart.instances).length") == 2
        save_screenshot(driver, SCREENSHOT)
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_choosing_a_device_counts_only_its_events(fleet):
    expected = sum(n for (device, _), n in fleet.stored_counts().items() if device == "dev-2")
    with open_dashboard(fleet.dashboard_url) as driver:
        driver.find_element(By.CSS_SELECTOR, '#device option[value="dev-2"]').click()
        WebDriverWait(driver, 30).until(lambda d: text(d, "#tile-events") == str(expected))
        rows = driver.find_elements(By.CSS_SELECTOR, "#counts tbody tr")
        assert [r.get_attribute("data-device") for r in rows] == ["dev-2"]


def test_a_shorter_range_leaves_older_events_out(fleet):
    with open_dashboard(fleet.dashboard_url) as driver:
        before = int(text(driver, "#tile-events"))
        fleet.post_events("dev-1", 4, gestures=("y",), minutes_ago=300)  # 5 hours ago
        loaded_again(driver)
        assert int(text(driver, "#tile-events")) == before  # the last hour
        driver.find_element(By.CSS_SELECTOR, '#range option[value="21600000"]').click()
        WebDriverWait(driver, 30).until(lambda d: text(d, "#tile-events") == str(before + 4))


def test_new_events_appear_without_reloading(fleet):
    with open_dashboard(fleet.dashboard_url) as driver:
        before = int(text(driver, "#tile-events"))
        fleet.post_events("dev-2", 5, gestures=("x",), minutes_ago=1)
        loaded_again(driver)
        assert int(text(driver, "#tile-events")) == before + 5


def test_deployed_dashboard_asks_for_the_key_once_and_keeps_it_in_the_session(
    fleet, cloudfront_like
):
    with open_dashboard(cloudfront_like.url + "/") as driver:
        assert driver.find_element(By.ID, "login").is_displayed()
        driver.find_element(By.ID, "key").send_keys(fleet.device_keys["dev-1"])
        driver.find_element(By.CSS_SELECTOR, "#key-form button").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "key-error").text)
        assert "dashboard key" in text(driver, "#key-error")  # the API's 403 message
        assert driver.execute_script("return sessionStorage.length") == 0
        driver.find_element(By.ID, "key").clear()
        driver.find_element(By.ID, "key").send_keys(fleet.dashboard_key)
        driver.find_element(By.CSS_SELECTOR, "#key-form button").click()
        WebDriverWait(driver, 30).until(lambda d: d.find_element(By.ID, "board").is_displayed())
        assert driver.execute_script("return Object.values(sessionStorage)") == [
            fleet.dashboard_key
        ]
        assert driver.execute_script("return localStorage.length") == 0
        driver.refresh()  # the same tab: no second prompt
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return document.body.dataset.loaded === 'true'")
        )
        assert not driver.find_element(By.ID, "login").is_displayed()
        assert driver.find_elements(By.CSS_SELECTOR, '#health tr[data-device="dev-1"]')


def test_screenshot_helper_writes_the_whole_page(fleet, tmp_path: Path):
    out = screenshot(fleet.dashboard_url, tmp_path / "shot.png")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    height = int.from_bytes(data[20:24], "big")
    assert height > 1000  # below the fold too, not just the window


def test_up_serves_the_page_and_its_library_with_the_sites_headers(fleet):
    for path, kind in (("", "text/html"), ("vendor/chart.umd.min.js", "text/javascript")):
        with urllib.request.urlopen(fleet.dashboard_url + path, timeout=30) as response:
            assert response.headers["Content-Type"].startswith(kind)
            assert response.headers["Content-Security-Policy"] == site.CONTENT_SECURITY_POLICY
    status, config = call(fleet.url + "/dashboard-config.json", None)
    assert status == 200 and config == {"api": fleet.url, "key": fleet.dashboard_key}
