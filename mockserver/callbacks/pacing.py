"""Pacing for background work on the event loop the fake serves requests on: at most a few
units of it in one turn of the loop, the rest waiting, in order, for the next turns. A burst of
thousands of callbacks then costs each request to the fake a few units' delay, not the burst's.

Callbacks layer: standard library only.
"""

from __future__ import annotations

import asyncio
from collections import deque


class Pacer:
    """`await turn()` before each unit of work (tens of microseconds: an attempt's start, the
    recording of its answer); at most `per_turn` units go ahead in one turn of the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, per_turn: int) -> None:
        self.loop, self.per_turn = loop, per_turn
        self._used = 0  # units gone ahead in this turn
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._next_turn_due = False

    async def turn(self) -> None:
        if not self._waiting and self._used < self.per_turn:
            self._used += 1
            self._mark()
            return
        waiter = self.loop.create_future()
        self._waiting.append(waiter)
        self._mark()
        await waiter  # cancelled: the next turn passes over it

    def _mark(self) -> None:
        """A turn has units in it: the count starts again in the next one."""
        if not self._next_turn_due:
            self._next_turn_due = True
            self.loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        # Runs early in the next turn; the waiters let go here resume in the turn after it.
        self._next_turn_due = False
        self._used = 0
        while self._waiting and self._used < self.per_turn:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                self._used += 1
        if self._used:
            self._mark()
