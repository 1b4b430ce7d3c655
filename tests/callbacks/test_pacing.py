"""The pacer: at most a few units of background work in one turn of the event loop, in order,
whatever number wait; a waiter cancelled meanwhile is passed over."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.callbacks.pacing import Pacer

pytestmark = pytest.mark.anyio


async def turns_of(units: int, per_turn: int, cancel: int | None = None) -> list[list[int]]:
    """Which units went ahead in each turn of the loop (a turn counter ticks once per turn)."""
    loop = asyncio.get_running_loop()
    pacer, turn, seen = Pacer(loop, per_turn), [0], {}

    def tick() -> None:
        turn[0] += 1
        if len(seen) < units - (cancel is not None):
            loop.call_soon(tick)

    async def unit(number: int) -> None:
        await pacer.turn()
        seen[number] = turn[0]

    loop.call_soon(tick)
    tasks = [loop.create_task(unit(n)) for n in range(units)]
    await asyncio.sleep(0)  # every unit has asked once
    if cancel is not None:
        tasks[cancel].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    by_turn: dict[int, list[int]] = {}
    for number, at in seen.items():
        by_turn.setdefault(at, []).append(number)
    return [sorted(by_turn[at]) for at in sorted(by_turn)]


async def test_at_most_per_turn_units_go_ahead_in_one_turn_in_the_order_they_asked() -> None:
    groups = await turns_of(units=10, per_turn=4)
    assert [len(group) for group in groups] == [4, 4, 2]
    assert [n for group in groups for n in group] == list(range(10))


async def test_a_cancelled_waiter_is_passed_over_and_takes_no_place() -> None:
    groups = await turns_of(units=9, per_turn=4, cancel=5)
    assert [n for group in groups for n in group] == [0, 1, 2, 3, 4, 6, 7, 8]
    assert [len(group) for group in groups] == [4, 4]
