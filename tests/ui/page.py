"""The dashboard as a test drives it: a fake served on loopback, the page opened in the shared
browser, and small readers of what the page shows."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from tests.helpers import live_server, make_app
from tests.ui.browser import wait


@dataclass
class Dashboard:
    driver: Any
    base: str

    def open(self, fragment: str = "") -> Dashboard:
        self.driver.get(f"{self.base}/__mock/ui{fragment}")
        wait(lambda: self.js("return document.body.dataset.loaded === 'true'"), what="the first load")
        return self

    def js(self, script: str, *args: Any) -> Any:
        return self.driver.execute_script(script, *args)

    def go(self, fragment: str) -> None:
        self.js("location.hash = arguments[0]", fragment)

    def finds(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        found: list[Any] = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found

    def find(self, css: str) -> Any:
        return wait(lambda: next(iter(self.finds(css)), None), what=css)

    def text(self, css: str) -> str:
        found = self.finds(css)
        return str(found[0].text) if found else ""

    def row(self, task_id: str) -> Any:
        return next(iter(self.finds(f'tr[data-task="{task_id}"]')), None)

    def cell(self, task_id: str, css: str, attribute: str | None = None) -> Any:
        """What a cell of the task's row shows now (its text, or an attribute), or None."""
        script = (
            "const row = [...document.querySelectorAll('tr[data-task]')]"
            ".find((r) => r.dataset.task === arguments[0]);"
            "const el = row && row.querySelector(arguments[1]);"
            "return el ? (arguments[2] ? el.getAttribute(arguments[2]) : el.textContent) : null;"
        )
        return self.js(script, task_id, css, attribute)

    def row_status(self, task_id: str) -> str | None:
        row = self.row(task_id)
        return None if row is None else str(row.get_attribute("data-status"))


@contextlib.contextmanager
def serving(driver: Any, app: Any = None, **settings: Any) -> Iterator[tuple[Dashboard, httpx.Client]]:
    """A fake (manual clock unless told) on a free loopback port, its page (not opened yet) and
    a client of it. The browser leaves the page before the fake stops (an open event stream
    would hold the fake's shutdown)."""
    with live_server(app or make_app(**settings)) as base, httpx.Client(base_url=base, timeout=30) as http:
        try:
            yield Dashboard(driver, base), http
        finally:
            driver.get("about:blank")
