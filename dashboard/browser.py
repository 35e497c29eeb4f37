"""Headless Chromium (Debian's `chromium` + `chromium-driver`, driven by Selenium).

    from dashboard.browser import screenshot
    screenshot("http://127.0.0.1:8000/", "build/dashboard.png")   # waits until the page loaded

`open_dashboard(url)` gives the driver itself (the browser tests read what a person sees).
`make install` installs both Debian packages when they are missing.
"""

from __future__ import annotations

import base64
import shutil
from contextlib import contextmanager
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver", "chromium-driver")
WINDOW = (1440, 900)


class BrowserMissing(RuntimeError):
    """Chromium or its driver is not installed."""


def _find(names: tuple[str, ...]) -> str:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/lib/chromium/{name}" if Path(f"/usr/lib/chromium/{name}").exists() else None
        )
        if found:
            return found
    raise BrowserMissing(f"none of {', '.join(names)} found: run `make install`")


@contextmanager
def chromium(window: tuple[int, int] = WINDOW):
    """A headless Chromium WebDriver, quit on exit."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = _find(CHROMIUM_NAMES)
    for flag in (
        "--headless=new",
        "--no-sandbox",  # containers and CI run as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--lang=en-GB",
        "--force-device-scale-factor=1",
        f"--window-size={window[0]},{window[1]}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(_find(DRIVER_NAMES)))
    try:
        yield driver
    finally:
        driver.quit()


def wait_loaded(driver, timeout_s: float = 20.0) -> None:
    """Wait until the dashboard drew its first answer (body[data-loaded]) or asked for a key."""
    from selenium.webdriver.support.ui import WebDriverWait

    def ready(d):
        return d.execute_script(
            "return document.body.dataset.loaded === 'true'"
            " || !document.getElementById('login').hidden"
        )

    WebDriverWait(driver, timeout_s).until(ready)


@contextmanager
def open_dashboard(url: str, timeout_s: float = 20.0):
    """A driver with the dashboard at `url` loaded."""
    with chromium() as driver:
        driver.get(url)
        wait_loaded(driver, timeout_s)
        yield driver


def save_screenshot(driver, out_png: str | Path) -> Path:
    """The whole page, below the fold too (not just the window), as a PNG."""
    out = Path(out_png)
    out.parent.mkdir(parents=True, exist_ok=True)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    out.write_bytes(base64.b64decode(shot["data"]))
    return out


def screenshot(url: str, out_png: str | Path, timeout_s: float = 20.0) -> Path:
    """Load the dashboard at `url` in headless Chromium and save the whole page to `out_png`."""
    with open_dashboard(url, timeout_s) as driver:
        return save_screenshot(driver, out_png)
