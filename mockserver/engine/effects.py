"""Timed effects: timers stored as data on the fake clock (a task's end, each callback attempt,
its timeout), claimed and run in order when due, and the moving of time that runs them. The
engine's half that drives, rather than answers: the `Engine` holds one and delegates its verbs
(`advance`, `run_due`, `schedule`, ...) to it.

Engine layer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from mockserver.engine.tasks import Task
from mockserver.engine.timers import Timer

if TYPE_CHECKING:
    from mockserver.store.base import Store

TaskListener = Callable[[Task], Awaitable[None]]
TimerHandler = Callable[[Timer], Awaitable[None]]
ResetListener = Callable[[], None]
# Timers taken from the store at a time: also how much due work runs between two chances for
# requests to be served (`run_due(limit=CLAIM_BATCH)`), so a burst of thousands of tasks ending
# at one instant does not stall the polls.
CLAIM_BATCH = 8


class Effects:
    """The handlers of each timer kind, the listeners of task ends and resets, and the timers'
    own verbs, over the engine's store and clock (`now`, `jump_to`, given by the engine)."""

    def __init__(
        self, store: Store, now: Callable[[], float], jump_to: Callable[[float], Awaitable[None]]
    ) -> None:
        self.store = store
        self.now, self.jump_to = now, jump_to
        self.on_schedule: Callable[[float], None] | None = None  # the driver's wake-up call
        self.handlers: dict[str, TimerHandler] = {}
        self.finishes_itself: set[str] = set()  # timer kinds whose handlers call `finish`
        self.end_listeners: list[TaskListener] = []
        self.reset_listeners: list[ResetListener] = []

    def on_timer(self, kind: str, handler: TimerHandler, *, finishes_itself: bool = False) -> None:
        self.handlers[kind] = handler
        if finishes_itself:
            self.finishes_itself.add(kind)

    async def schedule(self, *timers: Timer) -> None:
        await self.store.schedule(timers)
        self.scheduled(timers)

    def scheduled(self, timers: tuple[Timer, ...]) -> None:
        """`timers` were stored (by any verb): wake the driver if one is earlier than it knows."""
        if timers and self.on_schedule is not None:
            self.on_schedule(min(timer.when for timer in timers))

    async def emit(self, task: Task) -> None:
        for listener in self.end_listeners:
            await listener(task)

    def reset_elsewhere(self) -> None:
        for listener in self.reset_listeners:
            listener()

    async def run_due(self, limit: int | None = None) -> int:
        """Run the timed effects that have fallen due, earliest first: all of them, or at most
        `limit` (one batch, so a caller can let other work in between)."""
        ran = 0
        while timers := await self.store.claim_due(self.now(), min(CLAIM_BATCH, limit or CLAIM_BATCH)):
            handed_on = 0  # timers (from the start) whose handler returned
            try:
                for timer in timers:
                    await self.handlers[timer.kind](timer)
                    handed_on += 1
            finally:  # a handler that raised drops the rest of the batch, as a lost claim would
                itself = self.finishes_itself
                await self.store.finish(
                    [t for i, t in enumerate(timers) if i >= handed_on or t.kind not in itself]
                )
            ran += len(timers)
            if limit is not None:
                break
        return ran

    async def finish(self, *timers: Timer) -> None:
        if timers:
            await self.store.finish(timers)

    async def advance(
        self,
        seconds: float,
        settle: Callable[[], Awaitable[None]] | None = None,
        run_due: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        """Move time forward, running due effects in order at the time each was due; `settle`
        runs before each step (to let in-flight work, such as a callback, finish first);
        `run_due` replaces `self.run_due` (the runtime's yields to other work between batches)."""
        run = run_due or self.run_due
        target = self.now() + max(0.0, seconds)
        if settle is not None:
            await settle()
        while (due := await self.store.next_due()) is not None and due <= target:
            await self.jump_to(due)
            await run()
            if settle is not None:
                await settle()
        await self.jump_to(target)
        await run()
        if settle is not None:
            await settle()
