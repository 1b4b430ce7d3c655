"""Bursts of callbacks over real sockets on loopback: many tasks ending at one instant are each
called back once, on the documented schedule, with no timeout spent waiting for a connection,
while polls keep being answered; moving a manual clock over a burst returns in seconds; the first
callback of a fresh server is not late; a stop during a burst is prompt. Sized for a 2-core
machine; bench/burst.py runs the same at full size."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from tests.callbacks.receiver import LoopbackReceiver
from tests.conftest import store_factory
from tests.helpers import AUTH, EVOLINK_CREATE, client, evolink_body, live_server, make_app

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
BURST = 300
LARGE_BURST = 2000
START = 1767225600.0


async def test_a_burst_ending_at_one_instant_is_called_back_once_each_while_polls_are_served() -> None:
    with LoopbackReceiver().running() as receiver:
        app = make_app(allow_callback_hosts=("127.0.0.1",), settle_seconds=10)
        async with client(app) as http:
            ids = [
                (
                    await http.post(
                        EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=receiver.url)
                    )
                ).json()["id"]
                for _ in range(BURST)
            ]
            latencies: list[float] = []
            done = asyncio.Event()

            async def poll() -> None:
                while not done.is_set():
                    started = time.monotonic()
                    assert (await http.get(f"/v1/tasks/{ids[0]}", headers=AUTH)).status_code == 200
                    latencies.append(time.monotonic() - started)
                    await asyncio.sleep(0.01)

            async def move() -> float:
                started = time.monotonic()
                response = await http.post("/__mock/clock/advance", json={"seconds": 80})
                done.set()
                assert response.status_code == 200
                return time.monotonic() - started

            took, _ = await asyncio.gather(move(), poll())
            deliveries = (await http.get("/__mock/callbacks")).json()["callbacks"]
        got = receiver.ids()
    assert got == dict.fromkeys(ids, 1)  # each exactly once
    assert [d["state"] for d in deliveries] == ["delivered"] * BURST
    assert {a["outcome"] for d in deliveries for a in d["attempts"]} == {"success"}
    assert {a["time"] for d in deliveries for a in d["attempts"]} == {1767225600.0 + 79}
    assert took < 20, f"advancing over {BURST} due callbacks took {took:.1f} s"
    assert latencies and max(latencies) < 2, f"a poll waited {max(latencies):.2f} s during the burst"


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_a_burst_of_2000_due_at_once_on_a_manual_clock_is_called_back_once_each_past_every_deadline(
    store: str, request: pytest.FixtureRequest
) -> None:
    """The receiver answers at once: no attempt may be recorded as a timeout because the fake
    had not got round to its answer when an advance crossed its deadline (10 s after it)."""
    with LoopbackReceiver().running() as receiver:
        app = make_app(allow_callback_hosts=("127.0.0.1",), store=store_factory(request, store)())
        async with client(app) as http:
            body = evolink_body(callback_url=receiver.url)
            ids = [
                (await http.post(EVOLINK_CREATE, headers=AUTH, json=body)).json()["id"]
                for _ in range(LARGE_BURST)
            ]
            response = await http.post("/__mock/clock/advance", json={"seconds": 79 + 30})
            assert response.status_code == 200
            deliveries = (await http.get("/__mock/callbacks")).json()["callbacks"]
        got = receiver.ids()
    assert got == dict.fromkeys(ids, 1)  # each exactly once
    attempts = [a for d in deliveries for a in d["attempts"]]
    assert {a["outcome"] for a in attempts} == {"success"} and len(attempts) == LARGE_BURST
    assert {a["time"] for a in attempts} == {START + 79}  # all sent when due, none when reached


def test_on_a_scaled_clock_no_attempt_of_a_burst_times_out_waiting_for_a_connection() -> None:
    with (
        LoopbackReceiver().running() as receiver,
        # 3 real seconds to answer (30 fake at 10x): a receiver process on a loaded 2-core machine
        # may take over 1 s; what is tested is that waiting inside the fake does not count.
        live_server(
            make_app(clock="real", speed=10, callback_timeout=30, allow_callback_hosts=("127.0.0.1",))
        ) as base,
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        body = evolink_body(callback_url=receiver.url)
        ids = [http.post(EVOLINK_CREATE, headers=AUTH, json=body).json()["id"] for _ in range(BURST)]
        deadline = time.monotonic() + 60
        while len(receiver.ids()) < BURST and time.monotonic() < deadline:
            time.sleep(0.1)
        deliveries = http.get("/__mock/callbacks").json()["callbacks"]
        got = receiver.ids()
    assert got == dict.fromkeys(ids, 1)
    outcomes = [a["outcome"] for d in deliveries for a in d["attempts"]]
    assert outcomes == ["success"] * BURST  # the timeout counts from sending


def test_the_first_callback_of_a_fresh_server_is_not_late() -> None:
    with (
        LoopbackReceiver().running() as receiver,
        live_server(make_app(clock="real", speed=100, allow_callback_hosts=("127.0.0.1",))) as base,
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        task = http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=receiver.url)).json()
        deadline = time.monotonic() + 10
        while not receiver.ids() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        [delivery] = http.get("/__mock/callbacks").json()["callbacks"]
    assert delivery["task_id"] == task["id"]
    assert [a["outcome"] for a in delivery["attempts"]] == ["success"]  # within 0.1 s of real time


def test_a_stop_during_a_burst_to_a_receiver_that_never_answers_is_prompt() -> None:
    with LoopbackReceiver(hang=True).running() as receiver:
        app = make_app(allow_callback_hosts=("127.0.0.1",), settle_seconds=30, shutdown_timeout=1)
        with live_server(app) as base, httpx.Client(base_url=base, timeout=60) as http:
            body = evolink_body(callback_url=receiver.url)
            for _ in range(100):
                http.post(EVOLINK_CREATE, headers=AUTH, json=body)
            moving = threading.Thread(
                target=lambda: httpx.post(f"{base}/__mock/clock/advance", json={"seconds": 80}, timeout=60),
                daemon=True,
            )
            moving.start()  # settles for up to 30 s: the stop must not wait for it
            deadline = time.monotonic() + 10
            while len(receiver.ids()) < 64 and time.monotonic() < deadline:
                time.sleep(0.05)
            sent = len(receiver.ids())
            started = time.monotonic()
        stopped = time.monotonic() - started
    assert sent == 64  # the concurrency cap: the rest wait in the queue
    assert stopped < 5, f"the stop took {stopped:.1f} s"
