"""The callback attempts of one event loop: those due and waiting for one of a bounded number of
slots, those under way, and among them the flights (a request on its way to its receiver), with
the two waits built on them: claims finished in batches, and `settle` before a manual clock
moves on.

Callbacks layer: standard library and the engine's timers only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from mockserver.callbacks.pacing import Pacer
from mockserver.callbacks.wire import Answer
from mockserver.engine.timers import Timer

logger = logging.getLogger("mockserver.callbacks")
# Units of an attempt's work (its start, the recording of its answer) in one turn of the event
# loop at most, and attempts started in one turn: each takes tens of microseconds, and a burst
# must leave requests to the fake room in every turn (`pacing.py`).
PER_TURN = 4


class Exchanging(Protocol):
    """One request and its answer, over the lean wire or an injected httpx transport."""

    answer: asyncio.Future[Answer]
    started: float  # the loop's time when the request set off

    def abort(self) -> None: ...


class Flight:
    """An attempt whose request is on its way: its exchange, whether the deadline timer that
    stands for it in the store has fired (then it is spent, not to be dropped), and whether the
    attempt was cut for want of an answer."""

    __slots__ = ("exchange", "expired", "timed_out")

    def __init__(self, exchange: Exchanging) -> None:
        self.exchange = exchange
        self.expired = self.timed_out = False

    def answered(self) -> bool:
        return self.exchange.answer.done()

    def time_out(self) -> None:
        """Cut it, unless its answer came meanwhile: its attempt records a timeout."""
        if not self.answered():
            self.timed_out = True
            self.exchange.abort()


class Attempts:
    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        slots: int,
        attempt: Callable[[Attempts, Timer], Coroutine[Any, Any, None]],
        finish: Callable[..., Awaitable[None]],
    ) -> None:
        self.loop, self.slots = loop, slots
        self._attempt, self._finish = attempt, finish
        self.queue: deque[Timer] = deque()  # claimed CALLBACK timers waiting for a slot
        self.active: set[asyncio.Task[None]] = set()  # attempts under way, at most `slots`
        self.flights: dict[tuple[str, int], Flight] = {}
        self.changed = asyncio.Event()  # an attempt ended or took off: `settle` looks again
        self._finished: list[Timer] = []
        self._finishing: asyncio.Task[None] | None = None
        self._filling = False  # a fill is due in the next turn
        self.pacer = Pacer(loop, PER_TURN)

    # -- slots -------------------------------------------------------------------------

    def add(self, timer: Timer) -> None:
        self.queue.append(timer)
        self._fill()

    def _fill(self) -> None:
        if self._filling:
            return
        for _ in range(PER_TURN):
            if not self.queue or len(self.active) >= self.slots:
                return
            task = self.loop.create_task(self._attempt(self, self.queue.popleft()))
            self.active.add(task)
            task.add_done_callback(self._ended)
        if self.queue and len(self.active) < self.slots:
            self._filling = True
            self.loop.call_soon(self._next_turn)

    def _next_turn(self) -> None:
        self._filling = False
        self._fill()

    def _ended(self, task: asyncio.Task[None]) -> None:
        self.active.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:  # a slot outlives
            logger.error("a callback attempt failed", exc_info=error)  # any one delivery
        self.changed.set()
        self._fill()

    def took_off(self, key: tuple[str, int], flight: Flight) -> None:
        self.flights[key] = flight
        self.changed.set()

    def cancel(self) -> None:
        """Drop what waits, cancel what is under way (the stop, or a reset by another process)."""
        self.queue.clear()  # a fill due in the next turn finds nothing
        for task in self.active:
            task.cancel()

    # -- claims, finished in batches ---------------------------------------------------

    def finished(self, timer: Timer) -> None:
        """The attempt `timer` stood for is recorded as sent (or needs no sending): its claim
        goes, with the others finished meanwhile, in one store call."""
        self._finished.append(timer)
        if self._finishing is None:
            self._finishing = self.loop.create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._finished:
                batch, self._finished = self._finished, []
                await self._finish(*batch)
        finally:
            self._finishing = None

    async def drain(self) -> None:
        """Finish the claims still waiting (before a stop)."""
        if self._finishing is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(self._finishing)
        if self._finished:
            await self._flush()

    # -- settling ----------------------------------------------------------------------

    def _unsettled(self, allowance: float) -> float | None:
        """None if nothing can move on before fake time does: every attempt due has been sent
        or waits for a slot held by a request that has had `allowance` real seconds, and no
        attempt is between steps (a lookup, a store write, an answer being recorded). Else how
        long at most to wait before looking again."""
        if self.queue and len(self.active) < self.slots:
            return math.inf  # starting in the next turns
        if not self.active:
            return None
        now, soonest, flying = self.loop.time(), math.inf, 0
        for flight in self.flights.values():
            exchange = flight.exchange
            if exchange.answer.done():
                continue  # answered: its attempt is recording it
            flying += 1
            soonest = min(soonest, exchange.started + allowance - now)
        if flying < len(self.active):
            return math.inf
        return soonest if soonest > 0 else None

    async def settle(self, allowance: float) -> None:
        """Wait until nothing can move on before fake time does (see `_unsettled`)."""
        while (wait := self._unsettled(allowance)) is not None:
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), None if wait == math.inf else wait)
