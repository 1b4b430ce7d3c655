"""The dashboard on the event stream (`GET /__mock/events`, in the shape EVENTS.md gives): where
the fake answers it, the page follows the stream alone (no polling), applies each kind of event,
reloads from the control plane on a reset, and falls back to polling, then reconnects, when the
stream ends. The stream here is a stand-in the test feeds, in front of a real fake."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.helpers import make_app
from tests.ui.browser import wait
from tests.ui.page import Dashboard, serving
from tests.ui.test_tasks import create

pytestmark = pytest.mark.slow
START = 1767225600.0


class WithEvents:
    """The fake, with `GET /__mock/events` answered by a stream of what the test emits."""

    def __init__(self, app: Any) -> None:
        self.app, self.state = app, app.state
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queues: list[asyncio.Queue[bytes | None]] = []
        self.requests: list[dict[bytes, bytes]] = []
        self.seq = 0
        self.hold = threading.Event()  # cleared: the task listing waits until it is set
        self.hold.set()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == "/__mock/events":
            await self.stream(scope, send)
            return
        if scope["type"] == "http" and scope["path"] == "/__mock/tasks" and not self.hold.is_set():
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 10)
        await self.app(scope, receive, send)

    async def stream(self, scope: Any, send: Any) -> None:
        self.loop = asyncio.get_running_loop()
        self.requests.append(dict(scope["headers"]))
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.queues.append(queue)
        head = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-store")]
        await send({"type": "http.response.start", "status": 200, "headers": head})
        await send({"type": "http.response.body", "body": b": ping\n\n", "more_body": True})
        while (message := await queue.get()) is not None:
            await send({"type": "http.response.body", "body": message, "more_body": True})
        self.queues.remove(queue)
        await send({"type": "http.response.body", "body": b""})

    def emit(self, kind: str, **data: Any) -> None:
        self.seq += 1
        data = {"time": START, "wall": time.time(), "key": None, "node": "test", **data}
        self.send(f"id: {self.seq}\nevent: {kind}\ndata: {json.dumps(data)}\n\n".encode())

    def end(self) -> None:
        self.send(None)

    def send(self, message: bytes | None) -> None:
        assert self.loop is not None, "no page listens"
        for queue in list(self.queues):
            self.loop.call_soon_threadsafe(queue.put_nowait, message)


@contextlib.contextmanager
def streaming(driver: Any) -> Iterator[tuple[WithEvents, Dashboard, Any]]:
    events = WithEvents(make_app())
    with serving(driver, events) as (page, http):
        try:
            yield events, page, http
        finally:
            if events.queues:
                events.end()


def test_the_page_follows_the_event_stream_alone_when_the_fake_serves_one(driver: Any) -> None:
    with streaming(driver) as (events, page, http):
        page.open()
        wait(lambda: page.js("return document.body.dataset.mode") == "stream", what="the stream")
        assert page.text("#live") == "live · events"
        assert events.requests[0][b"accept"] == b"text/event-stream"
        task_id = create(http)
        time.sleep(1.5)
        assert page.row(task_id) is None  # no polling while the stream is open
        view = http.get(f"/__mock/tasks/{task_id}").json()
        events.emit("task.created", task=view, key=view["key"])
        wait(lambda: page.row(task_id), what="the created task")
        events.emit(
            "task.changed",
            task={**view, "status": "running", "progress": 42},
            **{"from": {"status": "queued", "progress": 0}},
        )
        wait(lambda: page.cell(task_id, "[role=progressbar]", "aria-valuenow") == "42", what="the change")
        clock = {**http.get("/__mock/clock").json(), "now": START + 100}
        events.emit("clock.moved", clock=clock)
        wait(lambda: page.text("#clock-now") == "2026-01-01 00:01:40", what="the clock moved")
        page.go("#journal")  # the journal is read once a view shows it, then follows the stream
        [entry] = http.get("/__mock/requests").json()["requests"]
        wait(lambda: page.text("#count-journal") == "1", what="the journal read")
        events.emit(
            "request", request={**entry, "seq": entry["seq"] + 1, "path": "/v1/tasks/from-the-stream"}
        )
        wait(lambda: page.text("#count-journal") == "2", what="the journal entry")
        assert "/v1/tasks/from-the-stream" in page.text("#journal-body")
        page.go("#tasks")
        attempt = {
            "number": 1,
            "time": START + 79,
            "url": "https://hooks.example/x",
            "outcome": "success",
            "status_code": 200,
            "duration": 0.01,
            "detail": None,
        }
        delivery = {
            "id": "cb-1",
            "task_id": task_id,
            "url": attempt["url"],
            "state": "delivered",
            "body": {},
            "attempts": [attempt],
        }
        events.emit("callback.attempt", delivery=delivery, attempt=1)
        wait(lambda: page.text("#count-callbacks") == "1", what="the callback")
        rule = {
            "id": "fault-1",
            "operation": None,
            "status": 503,
            "fault": "503",
            "fail": None,
            "callback": None,
            "remaining": 1,
            "key": None,
            "probability": 1,
            "matched": 0,
            "retry_after": None,
        }
        events.emit("rule.added", rule=rule)
        wait(lambda: page.text("#count-faults") == "1", what="the rule")
        events.emit("rule.used", rule={**rule, "remaining": 0, "matched": 1})
        wait(lambda: page.text("#count-faults") == "", what="the rule spent")
        events.emit("reset", key=None)  # the page reloads what the control plane says
        wait(lambda: page.cell(task_id, "[role=progressbar]", "aria-valuenow") == "0", what="the reload")
        # each view reloads on its own request: the callbacks may come after the tasks
        wait(lambda: page.text("#count-callbacks") == "", what="the callbacks reloaded")
        events.end()
        wait(lambda: page.js("return document.body.dataset.mode") == "polling", what="the fallback")
        wait(lambda: len(events.requests) == 2 and events.queues, what="a new stream")
        wait(lambda: page.js("return document.body.dataset.mode") == "stream", what="back on the stream")


def test_a_buffered_event_older_than_the_loaded_view_does_not_move_a_task_back(driver: Any) -> None:
    """Events that come while the page loads are applied after the load: one older than what
    the load found (the task is further on by then) is skipped."""
    with streaming(driver) as (events, page, http):
        task_id = create(http)
        http.post("/__mock/clock/advance", json={"seconds": 40})
        view = http.get(f"/__mock/tasks/{task_id}").json()
        assert view["status"] == "running"
        events.hold.clear()  # the page's listing of tasks waits until the stale event is sent
        driver.get(f"{page.base}/__mock/ui")
        wait(lambda: events.requests, what="the page's stream")
        events.emit("task.changed", task={**view, "status": "queued", "progress": 0})
        events.hold.set()
        wait(lambda: page.row(task_id), what="the task")
        wait(lambda: page.js("return document.body.dataset.mode") == "stream", what="the stream")
        assert page.cell(task_id, "[role=progressbar]", "aria-valuenow") == str(view["progress"])
