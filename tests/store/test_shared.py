"""What only a store shared between processes must do, proven on two RedisStores with one key
prefix (two processes, as the store sees them): claims outlive neither their claimant's
heartbeat nor its close, and a caller with a stale clock is told instead of served."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest

from mockserver.engine.clock import ClockState
from mockserver.engine.gate import Gate
from mockserver.engine.timers import CALLBACK, Timer
from mockserver.store.redis import RedisStore
from tests import redis_server

pytestmark = pytest.mark.anyio
NODE_TIMEOUT = 0.2  # real seconds
CLOCK = ClockState("manual", 1.0, 100.0, 0.0, version=1)


@pytest.fixture
async def pair(redis_base: str) -> AsyncIterator[Callable[[], RedisStore]]:
    """Makes stores sharing one prefix, as processes sharing one server do."""
    prefix, made = redis_server.prefix(), []

    def node() -> RedisStore:
        made.append(RedisStore(f"{redis_base}/0", prefix=prefix, node_timeout=NODE_TIMEOUT))
        return made[-1]

    yield node
    for store in made:
        await store.close()


async def test_a_claim_goes_to_another_node_once_its_claimant_stops_beating(
    pair: Callable[[], RedisStore],
) -> None:
    first, second = pair(), pair()
    assert (await first.join(), await second.join()) == (1, 2)
    timer = Timer(10.0, CALLBACK, "cb-1", 1)
    await first.schedule([timer])
    assert await first.claim_due(10.0, 5) == [timer]
    assert await second.claim_due(10.0, 5) == []  # held while the claimant is alive
    await asyncio.sleep(NODE_TIMEOUT * 2)
    assert await second.claim_due(10.0, 5) == [timer]
    await second.finish([timer])
    await asyncio.sleep(NODE_TIMEOUT * 2)
    assert await first.claim_due(10.0, 5) == [] and await first.next_due() is None  # finished: gone


async def test_closing_a_node_gives_its_unfinished_claims_back(pair: Callable[[], RedisStore]) -> None:
    first, second = pair(), pair()
    await first.join()
    await second.join()
    timer = Timer(5.0, CALLBACK, "cb-2", 1)
    await first.schedule([timer])
    assert await first.claim_due(5.0, 5) == [timer]
    await first.close()
    assert await second.claim_due(5.0, 5) == [timer]  # at once: no heartbeat to wait out


async def test_a_stale_clock_gets_the_stored_one_and_nothing_is_done(pair: Callable[[], RedisStore]) -> None:
    store = pair()
    await store.save_clock(CLOCK)
    assert await store.save_clock(CLOCK) == CLOCK  # the same version does not replace it
    moved = ClockState("manual", 1.0, 180.0, 0.0, version=2)
    assert await store.save_clock(moved) == moved
    stale = Gate("getTaskDetail", "sha256:k", True, 1, 100.0, clock_version=1, seed=0)
    admission, task = await store.read_task(stale, "task-1")
    assert admission.clock == moved and task is None
    fresh = replace(stale, now=180.0, clock_version=2)
    assert (await store.admit(fresh)).admitted
    assert (await store.admit(fresh)).wait == 60  # the one request this minute was the one above


async def test_a_read_outside_any_rate_limit_with_a_stale_clock_gets_the_stored_one(
    pair: Callable[[], RedisStore],
) -> None:
    store = pair()
    moved = ClockState("manual", 1.0, 180.0, 0.0, version=2)
    assert await store.save_clock(moved) == moved
    unlimited = Gate("getTaskDetail", "sha256:k", False, 0, 100.0, clock_version=1, seed=0)
    admission, task = await store.read_task(unlimited, "task-1")
    assert admission.clock == moved and task is None
    admission, task = await store.read_task(replace(unlimited, clock_version=2), "task-1")
    assert admission.admitted and admission.clock is None and task is None
