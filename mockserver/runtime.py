"""The asyncio side of one fake, beside the engine: opens the store on first use, runs timed
effects in the background as real (or scaled) time passes, lets in-flight callbacks settle
when the clock is moved by hand, prunes what is past retention, tells a shared store this
process is alive, and shuts down.

App layer: drives the engine and the callback sender; knows no provider and no web framework.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable

from mockserver.callbacks.delivery import CallbackSender
from mockserver.engine import Engine
from mockserver.engine.effects import CLAIM_BATCH
from mockserver.engine.errors import StoreUnavailable
from mockserver.loops import LoopMark

IDLE_WAKE = 0.5  # real seconds the driver sleeps at most (a store shared with others may change)
PRUNE_EVERY = 60.0  # real seconds between prunes of what is past retention
logger = logging.getLogger("mockserver.runtime")


class _Loop:
    """The driver and the lock of one event loop (tests may run the app on several)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.lock = asyncio.Lock()  # one runner of due effects at a time: driver or advance
        self.wake = asyncio.Event()
        self.waiting_for = math.inf  # fake time the driver sleeps until
        self.driver: asyncio.Task[None] | None = None
        self.heart: asyncio.Task[None] | None = None


class Runtime:
    def __init__(self, engine: Engine, sender: CallbackSender, *, settle_seconds: float = 2.0) -> None:
        self.engine, self.sender, self.settle_seconds = engine, sender, settle_seconds
        self._opened = False
        self._here: _Loop | None = None
        self._serving = LoopMark()  # the loop the driver runs on
        self._last_prune = time.monotonic()
        self._closing: list[Callable[[], Awaitable[None]]] = []
        engine.effects.on_schedule = self._on_schedule

    def on_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        """Run `close` when the fake stops (after the callbacks, before the store closes): the event
        stream, the upstreams."""
        self._closing.append(close)

    @property
    def serving(self) -> asyncio.AbstractEventLoop | None:
        """The loop the driver runs on, if any."""
        return self._serving.loop

    def running(self) -> bool:
        """The driver runs on the loop asking (every request asks)."""
        return self._serving.here()

    async def ensure_started(self) -> None:
        if not self.running():
            await self.start()

    async def start(self) -> None:
        if not self._opened:
            self._opened = True
            await self.engine.open()
        here = self._on(asyncio.get_running_loop())
        if here.driver is None or here.driver.done():
            here.driver = here.loop.create_task(self._drive(here))
            here.driver.add_done_callback(self._driver_ended)
        self._serving.set(here.loop)
        every = self.engine.heartbeat
        if every is not None and (here.heart is None or here.heart.done()):
            here.heart = here.loop.create_task(self._beat(every))

    def _driver_ended(self, driver: asyncio.Task[None]) -> None:
        here = self._here
        if here is not None and here.driver is driver:  # the next request starts another
            self._serving.set(None)

    async def stop(self) -> None:
        here, self._here = self._here, None
        self._serving.set(None)
        for task in (here.driver, here.heart) if here is not None else ():
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.sender.stop()
        for close in self._closing:
            await close()
        if self._opened:
            self._opened = False
            await self.engine.close()

    # -- moving time -------------------------------------------------------------------

    def _on(self, loop: asyncio.AbstractEventLoop) -> _Loop:
        """This loop's driver and lock. The fake runs on one loop at a time: moving to another
        (tests may call it from several) stops the driver left on the previous one."""
        here = self._here
        if here is None or here.loop is not loop:
            if here is not None and not here.loop.is_closed():
                for task in (here.driver, here.heart):
                    if task is not None:
                        here.loop.call_soon_threadsafe(task.cancel)
            here = self._here = _Loop(loop)
            self._serving.set(None)
        return here

    def _lock(self) -> asyncio.Lock:
        return self._on(asyncio.get_running_loop()).lock

    async def settle(self) -> None:
        await self.sender.settle(self.settle_seconds)

    async def run_due(self) -> int:
        async with self._lock():
            return await self._run_due()

    async def _run_due(self) -> int:
        """Every due effect, a batch at a time, letting requests in between: a burst of thousands
        of tasks ending at one instant must not stall the polls."""
        ran = 0
        while batch := await self.engine.run_due(limit=CLAIM_BATCH):
            ran += batch
            await asyncio.sleep(0)
        return ran

    async def advance(self, seconds: float) -> None:
        """Move fake time forward, running every effect in order at the time it was due, and
        letting callbacks settle before each step: every attempt due is sent, and every request
        has its answer or has had `settle_seconds` of real time for it. An answer that arrives
        in real milliseconds is seen at the fake time its attempt was sent (its retry scheduled
        from there), and no deadline is passed while an answer is on its way."""
        await self.engine.sync_clock()
        async with self._lock():
            await self.engine.advance(seconds, settle=self.settle, run_due=self._run_due)
            await self.engine.prune()

    async def reset(self) -> None:
        async with self._lock():
            await self.sender.stop()
            await self.engine.reset()

    # -- the background driver ---------------------------------------------------------

    def _on_schedule(self, when: float) -> None:
        here = self._here
        if here is not None and when < here.waiting_for:  # only an earlier timer needs a wake-up
            here.waiting_for = when
            here.loop.call_soon_threadsafe(here.wake.set)

    async def _drive(self, here: _Loop) -> None:
        engine = self.engine
        woken = True
        while True:
            here.wake.clear()
            # A manual clock moves only by `advance`, which runs what falls due itself: the
            # driver runs only what this process scheduled (a wake-up), never racing an
            # advance made through another process sharing the store.
            try:
                if woken or engine.clock.mode != "manual":
                    await self.run_due()
                if time.monotonic() - self._last_prune >= PRUNE_EVERY:
                    self._last_prune = time.monotonic()
                    await engine.prune()
                due = await engine.next_due()
            except StoreUnavailable:  # the store logs its going once; the driver tries again later
                due = None
            here.waiting_for = due if due is not None else math.inf
            delay = IDLE_WAKE
            if due is not None:
                real = engine.clock.real_seconds(due - engine.now())
                delay = IDLE_WAKE if real is None else min(real, IDLE_WAKE)
            if _stopping():
                return
            try:
                await asyncio.wait_for(here.wake.wait(), timeout=delay)
                woken = True
            except TimeoutError:
                woken = False

    async def _beat(self, every: float) -> None:
        while True:
            try:
                await self.engine.beat()
            except StoreUnavailable:  # the store logs its going once
                pass
            except Exception:  # a store that is briefly unreachable: beat again next time
                logger.warning("heartbeat to the store failed", exc_info=True)
            if _stopping():
                return
            await asyncio.sleep(every)


def _stopping() -> bool:
    """This task was cancelled. Python 3.11's `asyncio.wait_for`, which redis-py uses, can
    swallow a cancellation that arrives as the awaited operation completes: loops check."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
