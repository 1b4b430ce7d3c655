"""The dashboard keeps up on its own: on a real clock a task runs to its end on the page with
no action taken, and its ages move; when the fake goes away the page says so, and when a fake
is back on the same address the page follows the new one."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn

from mockserver.server import config
from tests.helpers import free_port, make_app, state_of
from tests.ui.browser import wait
from tests.ui.page import Dashboard, serving
from tests.ui.test_tasks import create

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def fake_on(port: int, seed: int) -> Iterator[httpx.Client]:
    """A fresh fake on a given loopback port (to stop one and start another in its place)."""
    app = make_app(seed=seed)
    server = uvicorn.Server(config(app, state_of(app).settings, host="127.0.0.1", port=port, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the fake did not start"
        time.sleep(0.01)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            yield http
    finally:
        server.should_exit = True
        thread.join(10)


def test_on_a_real_clock_a_task_runs_to_its_end_on_the_page_by_itself(driver: Any) -> None:
    with serving(driver, clock="real", speed=20) as (page, http):  # 80 fake seconds: 4 real ones
        page.open()
        wait(lambda: page.text("#clock-mode") == "real clock \N{MULTIPLICATION SIGN}20", what="the clock")
        task_id = create(http)
        wait(lambda: page.row_status(task_id) == "running", what="the task running")
        age = page.cell(task_id, "td.age")
        wait(lambda: page.cell(task_id, "td.age") != age, what="its age moving")
        wait(lambda: page.row_status(task_id) == "succeeded", timeout=15, what="the task ended")
        assert http.get(f"/__mock/tasks/{task_id}").json()["status"] == "succeeded"


def test_when_the_fake_goes_away_the_page_says_so_and_follows_the_next_one(driver: Any) -> None:
    port = free_port()
    page = Dashboard(driver, f"http://127.0.0.1:{port}")
    try:
        with fake_on(port, seed=1) as http:
            first = create(http)
            page.open()
            wait(lambda: page.row(first), what="the first fake's task")
            assert not page.find("#error").is_displayed()
        wait(lambda: page.find("#error").is_displayed(), what="the fake gone")
        assert "does not answer" in page.text("#error") and page.text("#live") == "fake unreachable"
        with fake_on(port, seed=2) as http:
            http.post("/__mock/clock/advance", json={"seconds": 5})
            second = create(http)
            assert second != first
            wait(lambda: not page.find("#error").is_displayed(), what="the fake back")
            wait(lambda: page.text("#clock-now") == "2026-01-01 00:00:05", what="the new fake's clock")
            wait(
                lambda: page.row_status(second) == "queued" and len(page.finds("tr[data-task]")) == 1,
                what="only the new fake's task",
            )
    finally:
        driver.get("about:blank")
