"""Timed effects: timers stored as data on the fake clock (a task's end, each callback attempt,
its timeout), claimed and run in order when due, and the moving of time that runs them. The
engine's half that drives, rather than answers; `Engine` has it as a base.

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
CLAIM_BATCH = 256  # timers taken from the store at a time


class TimedEffects:
    """Needs the engine's store, clock (`now`, `jump_to`) and the handler tables it sets up."""

    store: Store
    on_schedule: Callable[[float], None] | None  # the driver's wake-up call
    _timer_handlers: dict[str, TimerHandler]
    _finishes_itself: set[str]  # timer kinds whose handlers call `finish`
    _end_listeners: list[TaskListener]
    _reset_listeners: list[ResetListener]

    def now(self) -> float:
        raise NotImplementedError

    async def jump_to(self, when: float) -> None:
        raise NotImplementedError

    def on_timer(self, kind: str, handler: TimerHandler, *, finishes_itself: bool = False) -> None:
        """Run `handler` for each due timer of `kind`; one that `finishes_itself` hands the
        work on and calls `finish(timer)` once it is done (until then the claim holds)."""
        self._timer_handlers[kind] = handler
        if finishes_itself:
            self._finishes_itself.add(kind)

    def on_reset(self, listener: ResetListener) -> None:
        """Called when this process learns that another one reset the fake."""
        self._reset_listeners.append(listener)

    def on_task_end(self, listener: TaskListener) -> None:
        self._end_listeners.append(listener)

    async def schedule(self, *timers: Timer) -> None:
        await self.store.schedule(timers)
        self._scheduled(timers)

    def _scheduled(self, timers: tuple[Timer, ...]) -> None:
        if timers and self.on_schedule is not None:
            self.on_schedule(min(timer.when for timer in timers))

    async def next_due(self) -> float | None:
        return await self.store.next_due()

    async def run_due(self, limit: int | None = None) -> int:
        """Run the timed effects that have fallen due, earliest first: all of them, or at most
        `limit` (one batch, so a caller can let other work in between)."""
        ran = 0
        while timers := await self.store.claim_due(self.now(), min(CLAIM_BATCH, limit or CLAIM_BATCH)):
            handed_on = 0  # timers (from the start) whose handler returned
            try:
                for timer in timers:
                    await self._timer_handlers[timer.kind](timer)
                    handed_on += 1
            finally:  # a handler that raised drops the rest of the batch, as a lost claim would
                itself = self._finishes_itself
                await self.store.finish(
                    [t for i, t in enumerate(timers) if i >= handed_on or t.kind not in itself]
                )
            ran += len(timers)
            if limit is not None:
                break
        return ran

    async def finish(self, timer: Timer) -> None:
        """The work a self-finishing handler handed on is done: drop its claim."""
        await self.store.finish((timer,))

    async def _natural_end(self, timer: Timer) -> None:
        task = await self.store.task(timer.subject)
        # A forced outcome emitted its own event; a plan given after creation moved the end
        # (and scheduled its own timer).
        if task is not None and task.ending is None and task.callback_due == timer.when:
            await self._emit(task)

    async def _emit(self, task: Task) -> None:
        for listener in self._end_listeners:
            await listener(task)

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
        while (due := await self.next_due()) is not None and due <= target:
            await self.jump_to(due)
            await run()
            if settle is not None:
                await settle()
        await self.jump_to(target)
        await run()
        if settle is not None:
            await settle()
