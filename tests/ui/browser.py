"""A headless Chromium driven by selenium, for the dashboard's tests: Debian's `chromium` and
`chromium-driver` (nothing is downloaded at run time), a fresh profile each time, and helpers
to wait for the page and to save screenshots where a person can look at them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parents[2]
# Screenshots are artifacts, not sources (.gitignore): CI can keep the directory.
SHOTS = Path(os.environ.get("MOCKSERVER_UI_SHOTS", ROOT / "artifacts" / "ui-screenshots"))
BROWSERS = ("chromium", "chromium-browser", "google-chrome")
MISSING = (
    "no headless browser: the dashboard's browser tests need Chromium and its driver "
    "(apt-get install -y chromium chromium-driver) and selenium (pip install -e '.[test]')"
)
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1440,900",
    "--autoplay-policy=no-user-gesture-required",
)
T = TypeVar("T")


def found() -> tuple[str, str] | None:
    """The browser and its driver, or None when either (or selenium) is missing."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return None
    browser = next((path for name in BROWSERS if (path := shutil.which(name))), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    where = found()
    assert where is not None, MISSING
    options = webdriver.ChromeOptions()
    options.binary_location = where[0]
    for flag in FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="ui-profile-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(where[1]), options=options)
        try:
            yield driver
        finally:
            driver.quit()


def wait(condition: Callable[[], T | None], timeout: float = 10.0, what: str = "the page") -> T:
    """The first truthy value `condition` gives, checked every 50 ms until `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = condition()
            if value:
                return value
        except Exception as error:  # an element replaced while it was read: look again
            last = error
        time.sleep(0.05)
    raise AssertionError(f"{what}: not within {timeout} s" + (f" (last error: {last})" if last else ""))


def shot(driver: Any, name: str) -> Path:
    """Save a screenshot of the page as it is now; its path is listed at the end of the run."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path
