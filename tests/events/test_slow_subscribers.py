"""A subscriber that never reads is cut off (its queue is bounded, its connection reset), while
a subscriber that reads gets every event and polls are answered throughout."""

from __future__ import annotations

import socket
import threading
import time

import httpx

from tests.events.sse import WAIT, of_task, stalled, stream
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body, live_server, make_app

TASKS = 100  # with a step of 1 %: about 10,000 events (10 MB), more than socket buffers hold


def wait(done: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.01)


def drained(sock: socket.socket) -> bool:
    """Read what the server had sent until the connection ends: True if it was reset or closed."""
    try:
        while sock.recv(1 << 20):
            pass
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


def test_a_subscriber_that_never_reads_is_cut_off_and_polls_are_answered() -> None:
    app = make_app(events_queue=400, events_progress_step=1, events_ping=0.2)
    hub = app.state.mock.events
    with live_server(app) as base, stalled(base) as stuck, stream(base, kind="task") as reader:
        wait(lambda: len(hub.subscribers) == 2, "both subscribed")
        with httpx.Client(base_url=base, headers=AUTH) as http:
            ids = [http.post(EVOLINK_CREATE, json=evolink_body()).json()["id"] for _ in range(TASKS)]
        statuses: list[int] = []
        stop = threading.Event()

        def poll() -> None:
            with httpx.Client(base_url=base, headers=AUTH, timeout=WAIT) as http:
                while not stop.is_set():
                    statuses.append(http.get(f"/v1/tasks/{ids[0]}").status_code)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            httpx.post(base + "/__mock/clock/advance", json={"seconds": 100}, timeout=WAIT).raise_for_status()
            wait(lambda: hub.cut_off == 1, "the stalled subscriber cut off")
            seen = reader.wait_for(lambda ms: sum(m.event == "task.ended" for m in ms) == TASKS, "every end")
        finally:
            stop.set()
            poller.join(WAIT)
        assert drained(stuck)
    assert hub.cut_off == 1  # the stalled one only: the reader got every end
    assert len(of_task(seen, ids[0])) == 1 + 100 + 1  # created, running 0 to 99, ended
    assert len(statuses) > 10 and set(statuses) == {200}
