"""Deliveries' timers on the engine, pure (manual clock, no HTTP), against every store: a waiting
timer dropped with an update never runs, and the engine's timed verbs reach its effects."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mockserver.engine import Engine, starting_state
from mockserver.engine.timers import Timer
from mockserver.store.base import Store

pytestmark = pytest.mark.anyio


async def test_a_timer_cancelled_with_a_delivery_update_never_runs_and_others_do(store: Store) -> None:
    engine = Engine(store, starting_state("manual", 1.0, 0.0), seed=1)
    ran: list[Timer] = []

    async def handler(timer: Timer) -> None:
        ran.append(timer)

    engine.on_timer("deadline", handler)
    delivery = await engine.new_delivery("t-1", "https://hooks.example.com/", {"id": "t-1"}, "attempt", 5)
    engine.on_timer("attempt", handler)
    deadline, later = Timer(10, "deadline", delivery.id, 1), Timer(20, "deadline", delivery.id, 2)
    sent = replace(delivery, state="pending")
    assert await engine.update_delivery(delivery, sent, deadline, later)
    answered = replace(sent, state="delivered")
    assert await engine.update_delivery(sent, answered, cancel=(deadline,))
    assert await engine.next_due() == 5
    await engine.advance(15)
    assert [t.kind for t in ran] == ["attempt"] and await engine.next_due() == 20  # not 10
    await engine.advance(10)
    assert [t.number for t in ran if t.kind == "deadline"] == [2] and await engine.next_due() is None


async def test_a_refused_update_cancels_nothing(store: Store) -> None:
    engine = Engine(store, starting_state("manual", 1.0, 0.0), seed=1)
    delivery = await engine.new_delivery("t-1", "https://hooks.example.com/", {"id": "t-1"}, "attempt", 5)
    deadline = Timer(10, "deadline", delivery.id, 1)
    await engine.schedule(deadline)
    stale = replace(delivery, state="failed")  # not what is stored
    assert not await engine.update_delivery(stale, delivery, cancel=(deadline,))
    assert [t.kind for t in await store.claim_due(30, 10)] == ["attempt", "deadline"]
