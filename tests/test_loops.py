"""`LoopMark`: is the remembered loop the one running the caller (asked on every request)?"""

from __future__ import annotations

import asyncio
import threading

from mockserver.loops import LoopMark


def test_a_mark_knows_its_loop_from_another_loop_in_turn_and_from_another_thread() -> None:
    mark = LoopMark()
    seen: list[bool] = []

    async def remember() -> None:
        seen.append(mark.here())  # nothing remembered yet
        mark.set(asyncio.get_running_loop())
        seen.append(mark.here())

    async def look() -> None:
        seen.append(mark.here())

    asyncio.run(remember())
    asyncio.run(look())  # another loop, the first one stopped
    assert seen == [False, True, False]

    async def remember_and_wait(started: threading.Event, done: threading.Event) -> None:
        mark.set(asyncio.get_running_loop())
        started.set()
        while not done.is_set():
            await asyncio.sleep(0.01)

    started, done = threading.Event(), threading.Event()
    other = threading.Thread(target=lambda: asyncio.run(remember_and_wait(started, done)))
    other.start()
    try:
        assert started.wait(5)
        asyncio.run(look())  # that loop runs, but in another thread
    finally:
        done.set()
        other.join(5)
    assert seen == [False, True, False, False]
