"""Several `mockserver` processes sharing one real Redis: two nodes on two ports, and one node
with `--workers 2`. Everything runs on 127.0.0.1, bounded in count and in time."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.e2e.nodes import cluster
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body, free_port, live_server

pytestmark = pytest.mark.slow
START = 1767225600.0


def create(base: str, **changes: Any) -> httpx.Response:
    return httpx.post(f"{base}{EVOLINK_CREATE}", headers=AUTH, json=evolink_body(**changes))


def poll(base: str, task_id: str) -> httpx.Response:
    return httpx.get(f"{base}/v1/tasks/{task_id}", headers=AUTH)


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """`check()`'s first truthy answer within `timeout` real seconds."""
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(0.05)
    return found


class Receiver:
    """A callback receiver answering each request with the next status of its script (the
    last one repeats), recording the bodies."""

    def __init__(self, *statuses: int) -> None:
        self.statuses, self.bodies = list(statuses), []  # type: list[Any]
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        with self.lock:
            self.bodies.append(httpx.Response(200, content=raw).json())
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def test_two_nodes_share_tasks_clock_faults_journal_and_reset(redis_url: str) -> None:
    with cluster(redis_url, "--clock", "manual", "--seed", "1") as nodes:
        a, b = nodes.start(), nodes.start()
        task = create(a.base).json()
        assert poll(b.base, task["id"]).json()["status"] == "pending"  # created on A, polled on B
        httpx.post(f"{a.base}/__mock/clock/advance", json={"seconds": 80}).raise_for_status()
        done = poll(b.base, task["id"]).json()
        assert done["status"] == "completed"
        assert httpx.get(done["results"][0]).status_code == 200  # the result URL names A; B serves it too
        assert httpx.get(f"{b.base}/__mock/clock").json()["now"] == START + 80

        rule = {"operation": "getTaskDetail", "status": 503, "count": 1}
        httpx.post(f"{b.base}/__mock/faults", json=rule).raise_for_status()
        assert poll(a.base, task["id"]).status_code == 503  # armed on B, fired on A, once
        assert poll(a.base, task["id"]).status_code == 200
        assert httpx.get(f"{b.base}/__mock/faults").json() == {"faults": []}

        def journal_on_b() -> list[tuple[str, int]]:
            entries = httpx.get(f"{b.base}/__mock/requests", params={"provider": "evolink"}).json()
            return [(e["operation"], e["status"]) for e in entries["requests"]]

        expected = [("createVideoGeneration", 200), *[("getTaskDetail", s) for s in (200, 200, 503, 200)]]
        assert eventually(lambda: journal_on_b() == expected)  # entries are written a moment later

        httpx.post(f"{a.base}/__mock/reset").raise_for_status()
        assert httpx.get(f"{b.base}/__mock/tasks").json() == {"tasks": [], "next": None}
        assert poll(b.base, task["id"]).status_code == 404
        assert httpx.get(f"{b.base}/__mock/clock").json()["now"] == START
        again = create(b.base).json()  # B dropped its ids from before the reset: the seed replays
        assert again["id"] == task["id"]


def test_workers_share_one_port_and_one_state(redis_url: str) -> None:
    with cluster(redis_url, "--speed", "100", "--workers", "2") as nodes:
        node = nodes.start()
        ids = [create(node.base).json()["id"] for _ in range(10)]
        statuses = [poll(node.base, ids[i % 10]).status_code for i in range(40)]  # a connection each
        journal = httpx.get(f"{node.base}/__mock/requests").json()["requests"]
    assert len(set(ids)) == 10 and statuses == [200] * 40
    assert len(journal) >= 50


def test_more_than_one_worker_with_the_memory_store_refuses_in_one_line() -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "mockserver", "--port", str(free_port()), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refused.returncode != 0 and refused.stdout == ""
    assert refused.stderr.strip().splitlines() == [
        "Error: --workers 2 needs a shared store: run redis-server and add --store redis://127.0.0.1:6379/0"
    ]


def test_many_callbacks_are_delivered_exactly_once_across_nodes(redis_url: str) -> None:
    receiver = Receiver(200)
    with (
        live_server(receiver) as hook,
        cluster(  # 1000 fake seconds to answer: 10 real seconds at this speed
            redis_url, "--speed", "100", "--allow-callback-host", "127.0.0.1", callback_timeout="1000"
        ) as nodes,
    ):
        a, b = nodes.start(), nodes.start()
        ids = [create((a, b)[i % 2].base, callback_url=f"{hook}/done").json()["id"] for i in range(30)]
        eventually(lambda: len(receiver.bodies) >= 30, timeout=20)
        time.sleep(0.5)  # time for any duplicate to arrive
        deliveries = httpx.get(f"{b.base}/__mock/callbacks").json()["callbacks"]
    assert sorted(body["id"] for body in receiver.bodies) == sorted(ids)
    assert len(deliveries) == 30 and {d["state"] for d in deliveries} == {"delivered"}
    assert {len(d["attempts"]) for d in deliveries} == {1}


def test_a_node_killed_in_a_retry_schedule_leaves_it_to_another(redis_url: str) -> None:
    receiver = Receiver(500, 500, 200)
    with (
        live_server(receiver) as hook,
        cluster(
            redis_url, "--allow-callback-host", "127.0.0.1", callback_timeout="2", node_timeout="1"
        ) as nodes,
    ):
        a = nodes.start()  # alone, so the first attempt is surely A's
        task = create(a.base, callback_url=f"{hook}/done").json()
        httpx.post(f"{a.base}/__mock/tasks/{task['id']}/complete").raise_for_status()

        def first_answer_recorded() -> bool:
            [delivery] = httpx.get(f"{a.base}/__mock/callbacks").json()["callbacks"]
            return bool(delivery["attempts"]) and delivery["attempts"][0]["outcome"] != "pending"

        # Killed only once A has recorded the 500: killed between the receiver's answer and the
        # record, the attempt is rightly taken over as a timeout (the answer died with A).
        eventually(first_answer_recorded)
        a.kill()  # the retries are due 1 s and then 2 s later
        b = nodes.start()

        def delivered() -> dict[str, Any] | None:
            [delivery] = httpx.get(f"{b.base}/__mock/callbacks").json()["callbacks"]
            return delivery if delivery["state"] == "delivered" else None

        delivery = eventually(delivered, timeout=20)
    outcomes = [attempt["outcome"] for attempt in delivery["attempts"]]
    assert outcomes[-1] == "success" and len(receiver.bodies) == len(outcomes) <= 4
    assert outcomes[0] == "http_error"


def test_restarting_every_node_keeps_tasks_credits_and_the_journal(redis_url: str) -> None:
    settings = ("--clock", "manual", "--seed", "3", "--credits", "21")
    with cluster(redis_url, *settings) as nodes:
        a, b = nodes.start(), nodes.start()
        before = [create(node.base).json()["id"] for node in (a, b)]
        journal = eventually(lambda: len(httpx.get(f"{a.base}/__mock/requests").json()["requests"]) == 2)
        a.stop()
        b.stop()
        c, d = nodes.start(), nodes.start()
        assert [poll(node.base, task_id).status_code for node in (c, d) for task_id in before] == [200] * 4
        last = create(c.base)
        assert last.status_code == 200 and last.json()["id"] not in before  # same seed, fresh ids
        assert create(d.base).status_code == 402  # 21 credits: three 5 s videos in all
        journal = httpx.get(f"{d.base}/__mock/requests").json()["requests"]
    assert [e["operation"] for e in journal[:2]] == ["createVideoGeneration"] * 2
    assert len(journal) == 2 + 4 + 2
