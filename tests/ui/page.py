"""The dashboard as a test drives it: a fake served on loopback, the page opened in the shared
browser, small readers of what the page shows, and every request the browser sent the fake,
read as operations of the documented control plane."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import httpx

from mockserver.spec import load_spec
from tests.helpers import live_server, make_app
from tests.ui.browser import wait

# The page asks for the event stream where it does not know whether the fake serves one; a fake
# that does documents it (GET /__mock/events), one that does not answers this one request 404.
STREAM = ("GET", "/__mock/events")


class Recorded:
    """An app in front of another that notes each request the browser sends it: method, path
    and query as they arrived (the test's own httpx calls are not the page's)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state  # what the server reads its settings from
        self.sent: list[tuple[str, str, str]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and b"HeadlessChrome" in dict(scope["headers"]).get(b"user-agent", b""):
            self.sent.append((scope["method"], scope["path"], scope["query_string"].decode("latin-1")))
        await self.app(scope, receive, send)


def operation_of(method: str, path: str, query: str) -> str:
    """The control plane's operationId for a request, asserting that openapi/control.yaml
    documents its method, its path and each query parameter it carries."""
    for op in load_spec("control").operations.values():
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(op.path)) + "$"
        if op.method.upper() == method and re.match(pattern, path):
            names = {param.name for param in op.params if param.location == "query"}
            assert set(parse_qs(query)) <= names, f"{method} {path}?{query}: undocumented parameters"
            return op.id
    assert (method, path) == STREAM, f"{method} {path}: no operation of the control plane"
    return "getEvents"


@dataclass
class Dashboard:
    driver: Any
    base: str
    recorded: Recorded | None = field(default=None, repr=False)

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

    def sent(self) -> list[tuple[str, str, str]]:
        """Every request the browser has sent the fake: (method, path, query)."""
        assert self.recorded is not None
        return list(self.recorded.sent)

    def operations(self) -> set[str]:
        """The control plane's operations the page has called (each one documented)."""
        return {operation_of(*request) for request in self.sent()}


@contextlib.contextmanager
def serving(driver: Any, app: Any = None, **settings: Any) -> Iterator[tuple[Dashboard, httpx.Client]]:
    """A fake (manual clock unless told) on a free loopback port, its page (not opened yet) and
    a client of it. The browser leaves the page before the fake stops (an open event stream
    would hold the fake's shutdown)."""
    recorded = Recorded(app or make_app(**settings))
    with live_server(recorded) as base, httpx.Client(base_url=base, timeout=30) as http:
        try:
            yield Dashboard(driver, base, recorded), http
        finally:
            driver.get("about:blank")
