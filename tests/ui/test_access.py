"""The dashboard's access in a real browser: where the fake takes a control token, the page asks
for it (again when refused), keeps it in the tab's sessionStorage and sends it as a header, so
it never appears in a URL (the address bar, the history, the fake's logs); and a page of another
origin cannot make the browser act on the fake (the control plane refuses it)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import live_server
from tests.ui.browser import shot, wait
from tests.ui.page import serving
from tests.ui.test_tasks import create

pytestmark = pytest.mark.slow
TOKEN = "t0ken-the-page-asks-for"
# What a page of another site would try: a "simple" cross-origin POST (no preflight), sent
# without CORS, answered or not: the browser sends it, and only the fake can refuse it.
FORGERY = """
const done = arguments[arguments.length - 1];
fetch(arguments[0] + "/__mock/clock/advance", {method: "POST", mode: "no-cors", body: '{"seconds": 80}'})
  .then(() => done("sent"), (error) => done(String(error)));
"""


def test_with_a_token_required_the_page_asks_for_it_and_sends_it_only_as_a_header(driver: Any) -> None:
    with serving(driver, control_token=TOKEN, log_requests=True) as (page, http):
        driver.get(f"{page.base}/__mock/ui")
        field = wait(lambda: page.find("#token-dialog[open] #token-input"), what="the token prompt")
        assert not page.find("#token-refused").is_displayed()
        wait(lambda: page.text("#live") == "control token needed", what="the header saying why")
        assert page.text("#tasks-empty") == "Reading the tasks…"  # no example before the fake answers
        shot(driver, "token")
        field.send_keys("not-the-token")
        page.find("#token-form button").click()
        wait(lambda: page.find("#token-refused").is_displayed(), what="the token refused")
        page.find("#token-input").send_keys(TOKEN)
        page.find("#token-form button").click()
        wait(
            lambda: page.js("return document.body.dataset.loaded === 'true'"), what="the page with the token"
        )
        task_id = create(http)  # the provider API takes the key, not the control token
        wait(lambda: page.row(task_id), what="the task's row")
        assert page.js("return sessionStorage.getItem('videogen-mock.control-token')") == TOKEN
        urls = page.js(
            "return [location.href, ...performance.getEntriesByType('resource').map((e) => e.name)]"
        )
        assert any("/__mock/tasks" in url for url in urls)
        assert [url for url in urls if TOKEN in url] == []
        # what reached the fake: no path or query the browser sent carries it (nor any log of them)
        assert page.sent() and [sent for sent in page.sent() if TOKEN in "".join(sent)] == []
        assert http.get("/__mock/clock").status_code == 401  # the control plane still takes it


def test_beyond_loopback_the_page_is_served_and_asks_for_the_token_the_fake_made(driver: Any) -> None:
    """Bound beyond loopback with no token given, the fake makes one (its banner shows it): the
    page loads without it, its first call is refused, and it asks. (The test's server listens on
    127.0.0.1 only; the setting is what the fake's rules read.)"""
    with serving(driver, host="0.0.0.0") as (page, http):
        driver.get(f"{page.base}/__mock/ui")
        wait(lambda: page.find("#token-dialog[open] #token-input"), what="the token prompt")
        assert http.get("/__mock/clock").status_code == 401
        assert ("GET", "/__mock/ui", "") in page.sent()


@contextlib.contextmanager
def another_site() -> Iterator[str]:
    """A page of another origin (another loopback port), served by a few lines of ASGI."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]}
        )
        await send({"type": "http.response.body", "body": b"<!doctype html><title>elsewhere</title>"})

    with live_server(app) as base:
        yield base


def test_a_page_of_another_origin_cannot_make_the_browser_act_on_the_fake(driver: Any) -> None:
    with serving(driver) as (page, http), another_site() as elsewhere:
        driver.get(elsewhere)
        assert driver.execute_async_script(FORGERY, page.base) == "sent"
        assert http.get("/__mock/clock").json()["now"] == 1767225600  # refused: the clock did not move
