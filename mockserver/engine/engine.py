"""The engine facade: creates and observes tasks, forces outcomes, moves time and emits
one terminal event per task for side effects such as callback delivery.

Engine layer: imports neither starlette nor the provider adapters.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from mockserver.engine.billing import Ledger, cost_of
from mockserver.engine.clock import Clock
from mockserver.engine.errors import TaskAlreadyFinished
from mockserver.engine.faults import FaultBook, RateLimiter
from mockserver.engine.ids import IdFactory
from mockserver.engine.journal import Journal
from mockserver.engine.scheduler import Scheduler
from mockserver.engine.store import TaskStore
from mockserver.engine.tasks import Ending, Failure, Snapshot, Task, TaskStatus

TaskListener = Callable[[Task], None]
MakeId = Callable[[IdFactory, float], str]

CANCELLED = Failure("request_cancelled")
# Real seconds the driver sleeps at most, so a jumped clock is noticed soon.
IDLE_WAKE = 0.5


@dataclass(frozen=True, slots=True)
class Timing:
    """D13: about 2 s queued then about 77 s running; results live 24 h (D14)."""

    queue_seconds: float = 2.0
    run_seconds: float = 77.0
    result_ttl: float = 86400.0
    retention: float | None = 7 * 86400.0


class Engine:
    def __init__(
        self,
        clock: Clock,
        *,
        timing: Timing = Timing(),
        seed: int | None = None,
        credits: float | None = None,
        rate_limit: int = 0,
        keys: Iterable[str] = (),
        accept_any_key: bool = False,
        journal_limit: int = 100_000,
        settle_seconds: float = 2.0,
    ) -> None:
        self.clock = clock
        self.timing = timing
        self.seed = seed if seed is not None else secrets.randbelow(2**31)
        self.keys = frozenset(keys)
        self.accept_any_key = accept_any_key
        self.settle_seconds = settle_seconds
        self._credits, self._rate_limit, self._journal_limit = credits, rate_limit, journal_limit
        self.scheduler = Scheduler(clock)
        self._listeners: list[TaskListener] = []
        self._inflight: set[asyncio.Future[Any]] = set()
        self._reset_state()

    def _reset_state(self) -> None:
        self.ids = IdFactory(self.seed)
        self.store = TaskStore(self.timing.retention)
        self.ledger = Ledger(self._credits)
        self.faults = FaultBook()
        self.limiter = RateLimiter(self._rate_limit)
        self.journal = Journal(self._journal_limit)

    def reset(self) -> None:
        for future in list(self._inflight):
            future.cancel()
        self._inflight.clear()
        self.scheduler.clear()
        self.clock.reset()
        self._reset_state()

    # -- keys and credits --------------------------------------------------------------

    def accepts(self, key: str | None) -> bool:
        """D16: a known key, or any non-empty key when the fake accepts any."""
        if not key:
            return False
        return self.accept_any_key or key in self.keys

    def balance(self, key: str) -> float | None:
        return self.ledger.balance(key)

    # -- tasks -------------------------------------------------------------------------

    def create(
        self,
        *,
        provider: str,
        key: str,
        model: str,
        duration: int,
        aspect_ratio: str,
        make_id: MakeId,
        callback_url: str | None = None,
        failure: Failure | None = None,
        origin: str = "",
    ) -> Task:
        credits = cost_of(duration)
        self.ledger.charge(key, credits)
        now = self.clock.now()
        intern = sys.intern  # every task repeats these few strings: keep one copy of each
        task = Task(
            id=make_id(self.ids, now),
            provider=provider,
            owner=intern(key),
            model=intern(model),
            created_at=now,
            queue_seconds=self.timing.queue_seconds,
            run_seconds=self.timing.run_seconds,
            duration=duration,
            aspect_ratio=intern(aspect_ratio),
            credits=credits,
            media_token=self.ids.hex("media"),
            callback_url=callback_url,
            origin=intern(origin),
            planned_failure=failure,
        )
        self.store.add(task)
        self.scheduler.call_at(task.natural_end, self._natural_end, task)
        return task

    def get(self, task_id: str, *, key: str) -> Task:
        """The task if `key` owns it; TaskNotFound / TaskForbidden otherwise."""
        return self.store.owned(task_id, key, self.clock.now())

    def find(self, task_id: str) -> Task:
        return self.store.find(task_id, self.clock.now())

    def observe(self, task: Task) -> Snapshot:
        return task.observe(self.clock.now())

    def tasks(self) -> list[Task]:
        return list(self.store)

    def result_expires_at(self, task: Task) -> float | None:
        snapshot = self.observe(task)
        if snapshot.status is not TaskStatus.SUCCEEDED or snapshot.ended_at is None:
            return None
        return snapshot.ended_at + self.timing.result_ttl

    def media_task(self, token: str) -> Task | None:
        """The task whose result `token` names, if its file is still being served."""
        task = self.store.by_media(token)
        if task is None:
            return None
        expires = self.result_expires_at(task)
        return task if expires is not None and self.clock.now() < expires else None

    # -- forced outcomes (control plane) -----------------------------------------------

    def complete(self, task_id: str) -> Task:
        return self._force(task_id, TaskStatus.SUCCEEDED, None)

    def fail(self, task_id: str, failure: Failure) -> Task:
        return self._force(task_id, TaskStatus.FAILED, failure)

    def cancel(self, task_id: str) -> Task:
        """D11: cancelling ends the task failed with `request_cancelled`."""
        return self._force(task_id, TaskStatus.FAILED, CANCELLED)

    def _force(self, task_id: str, status: TaskStatus, failure: Failure | None) -> Task:
        task = self.find(task_id)
        if self.observe(task).status.finished:
            raise TaskAlreadyFinished(task_id)
        task.ending = Ending(self.clock.now(), status, failure)
        self._emit(task)
        return task

    # -- terminal events ---------------------------------------------------------------

    def on_task_end(self, listener: TaskListener) -> None:
        self._listeners.append(listener)

    def _natural_end(self, task: Task) -> None:
        if task.ending is None:  # a forced outcome already emitted its event
            self._emit(task)

    def _emit(self, task: Task) -> None:
        for listener in self._listeners:
            listener(task)

    # -- time --------------------------------------------------------------------------

    def pump(self) -> int:
        """Run every timed effect that has fallen due (cheap when none has)."""
        return self.scheduler.run_due()

    def advance(self, seconds: float) -> None:
        """Move time forward, running due effects in order at the time each was due."""
        target = self.clock.now() + max(0.0, seconds)
        while (due := self.scheduler.next_due()) is not None and due <= target:
            self.clock.jump_to(due)
            self.scheduler.run_due()
        self.clock.jump_to(target)

    async def advance_settled(self, seconds: float) -> None:
        """Like `advance`, but lets in-flight side effects (callback attempts) settle before
        each step, so an answer that arrives in real milliseconds is seen at the fake time
        it was sent, and its retry is scheduled from there."""
        target = self.clock.now() + max(0.0, seconds)
        await self.settle()
        while (due := self.scheduler.next_due()) is not None and due <= target:
            self.clock.jump_to(due)
            self.scheduler.run_due()
            await self.settle()
        self.clock.jump_to(target)
        self.scheduler.run_due()
        await self.settle()

    def track(self, future: asyncio.Future[Any]) -> None:
        """Register background work (a callback attempt) that `settle` should wait for."""
        self._inflight.add(future)
        future.add_done_callback(self._inflight.discard)

    async def settle(self) -> None:
        """Wait, for at most `settle_seconds` of real time, for in-flight work to finish."""
        pending = {future for future in self._inflight if not future.done()}
        if pending:
            await asyncio.wait(pending, timeout=self.settle_seconds)

    async def drive(self) -> None:
        """Run due effects as real (or scaled) time passes; for the server's lifespan."""
        wake = asyncio.Event()
        loop = asyncio.get_running_loop()
        waiting_for = [math.inf]  # fake time the driver sleeps until

        def on_schedule(when: float) -> None:
            if when < waiting_for[0]:  # only an earlier timer needs the driver awake
                waiting_for[0] = when
                loop.call_soon_threadsafe(wake.set)

        self.scheduler.on_schedule = on_schedule
        try:
            while True:
                self.scheduler.run_due()
                due = self.scheduler.next_due()
                now = self.clock.now()
                delay = self.clock.real_seconds(due - now) if due is not None else None
                delay = IDLE_WAKE if delay is None else min(delay, IDLE_WAKE)
                waiting_for[0] = due if due is not None else math.inf
                wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=delay)
        finally:
            self.scheduler.on_schedule = None
