"""Churn: rounds of tasks created, ended, called back and moved past retention leave the fake
holding nothing (no tasks, deliveries, result files or timers, through the control plane and the
engine's verbs), and its memory does not grow from round to round. Sized for the suite;
bench/churn.py runs the same at full size against the `mockserver` command and reports its RSS."""

from __future__ import annotations

import gc
import itertools
import tracemalloc
from typing import Any

import httpx
import pytest

from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    EVOLINK_CREATE,
    advance,
    aimlapi_body,
    client,
    evolink_body,
    make_app,
    state_of,
)

pytestmark = pytest.mark.anyio
TASKS = 200  # per round, half of them evolink with a callback, half aimlapi
ROUNDS = 7
RETENTION = 3600.0  # shorter than the result files' 24 h: a file gone afterwards went with its task
LIFETIME = 79.0  # queued 2 s, running 77 s
# A delivery is made when its task ends and kept as long after that as a task after its
# creation, so it is pruned a lifetime after its task: this is past both.
PAST_RETENTION = RETENTION + 2 * LIFETIME + 1
JOURNAL_LIMIT = 50  # full from the first round on: the journal is bounded by its limit, not by pruning
# Growth allowed in a round, once the first rounds have filled what fills once: 40 bytes for
# each of its 200 tasks. Anything a task or its delivery could leave behind costs more (an id
# string alone is over 50 bytes, a record hundreds), and a leak shows in every round; what
# grows once (the regex, urllib.parse and httpx caches filling to their bounds, a container
# resized, 2-15 KB seen) shows in one round only, so the test takes the second smallest growth
# of rounds 4 to 7.
GROWTH_BOUND = 8_000
HOOK = "https://hooks.example.com/video-done"


async def public(host: str, port: int) -> list[str]:
    """Every callback host resolves to one public address (no DNS in tests)."""
    return ["93.184.216.34"]


class Receiver(httpx.AsyncBaseTransport):
    """Answers every callback 200 at once and counts them (a count: a list of them would be
    memory growing from round to round, in the test itself)."""

    def __init__(self) -> None:
        self.calls = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return httpx.Response(200)


def traced() -> int:
    """Bytes allocated since tracing started and still alive, cycles collected first."""
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


async def one_round(http: httpx.AsyncClient) -> tuple[list[str], int]:
    """A round of tasks created, ended and called back, then moved past retention; their result
    tokens, and the memory they held while they lived."""
    before = traced()
    for _ in range(TASKS // 2):
        created = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=HOOK))
        assert created.status_code == 200
        created = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
        assert created.status_code == 200
    await advance(http, LIFETIME + 1)
    held = traced() - before
    tasks = (await http.get("/__mock/tasks", params={"limit": 1000})).json()["tasks"]
    deliveries = (await http.get("/__mock/callbacks")).json()["callbacks"]
    assert [t["status"] for t in tasks] == ["succeeded"] * TASKS
    assert [d["state"] for d in deliveries] == ["delivered"] * (TASKS // 2)
    tokens = [t["result_url"].rsplit("/", 1)[1].removesuffix(".mp4") for t in tasks]
    assert (await http.get(f"/files/{tokens[0]}.mp4")).status_code == 200
    await advance(http, PAST_RETENTION)
    return tokens, held


async def assert_nothing_left(http: httpx.AsyncClient, app: Any, tokens: list[str]) -> None:
    assert (await http.get("/__mock/tasks")).json() == {"tasks": [], "next": None}
    assert (await http.get("/__mock/callbacks")).json() == {"callbacks": []}
    assert (await http.get(f"/files/{tokens[0]}.mp4")).status_code == 404
    engine = state_of(app).engine
    assert await engine.count_tasks() == 0
    assert await engine.tasks() == ([], None)
    assert await engine.deliveries() == []
    assert [await engine.media_task(token) for token in tokens] == [None] * len(tokens)
    assert [await engine.store.task_by_media(token) for token in tokens] == [None] * len(tokens)
    assert await engine.next_due() is None  # no timer left behind either


async def test_rounds_past_retention_leave_nothing_behind_and_memory_does_not_grow() -> None:
    receiver = Receiver()
    app = make_app(
        resolver=public, callback_transport=receiver, task_retention=RETENTION, journal_limit=JOURNAL_LIMIT
    )
    sizes, held = [], []
    tracemalloc.start()
    try:
        async with client(app) as http:
            for _ in range(ROUNDS):
                tokens, footprint = await one_round(http)
                await assert_nothing_left(http, app, tokens)
                held.append(footprint)
                sizes.append(traced())
    finally:
        tracemalloc.stop()
    assert receiver.calls == ROUNDS * TASKS // 2
    # The bound is far below what a round's tasks hold (about 1.2 KB each): leaking a fraction
    # of them would show.
    assert min(held) > 20 * GROWTH_BOUND, held
    growth = sorted(after - before for before, after in itertools.pairwise(sizes[2:]))  # rounds 4 to 7
    assert growth[1] < GROWTH_BOUND, f"memory grew in 3 or more of rounds 4 to 7: {growth} bytes ({sizes})"
