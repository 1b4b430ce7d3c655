"""The engine: domain verbs over a store. Creates and observes tasks, forces outcomes, moves the
clock, runs timed effects and emits one terminal event per task (for callback delivery).

Engine layer: imports neither Starlette nor a provider, and no store implementation (any
object with the `Store` protocol's verbs will do). Every change of state is one store verb.
"""

from __future__ import annotations

import itertools
import math
import secrets
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mockserver.engine.clock import Clock, ClockState, starting_state
from mockserver.engine.deliveries import DROPPED, PENDING, Delivery
from mockserver.engine.effects import Effects, ResetListener, TaskListener, TimerHandler
from mockserver.engine.errors import (
    FaultFired,
    InsufficientCredits,
    RateLimited,
    TaskAlreadyFinished,
    TaskForbidden,
    TaskNotFound,
)
from mockserver.engine.events import (
    CallbackAttempted,
    CallbackScheduled,
    ClockMoved,
    Emitter,
    Reset,
    RuleAdded,
    RulesCleared,
    RuleUsed,
    TaskCreated,
    TaskEnded,
)
from mockserver.engine.faults import FaultRule
from mockserver.engine.gate import ADMITTED, Admission, Gate, Insert
from mockserver.engine.ids import Ids
from mockserver.engine.journal import EVERYTHING, JournalEntry, JournalFields, JournalQuery
from mockserver.engine.tasks import Ending, Failure, NewTask, Script, Snapshot, Task, TaskStatus, Timing
from mockserver.engine.timers import TASK_END, Timer

if TYPE_CHECKING:
    from mockserver.store.base import Store

DEFAULT_TIMING = Timing()


def _end_timers(task: Task) -> tuple[Timer, ...]:
    """The timer of a task's callback at its natural end (none without a callback URL, or for
    a task that never ends by itself)."""
    if not task.callback_url or not math.isfinite(task.callback_due):
        return ()
    return (Timer(task.callback_due, TASK_END, task.id),)


def _replaying(task: Task, script: Script) -> Task:
    """A task that replays `script`, its queue and run times the recording's."""
    queued = script.starts_after if math.isfinite(script.starts_after) else task.queue_seconds
    ran = script.ends_after - queued if math.isfinite(script.ends_after) else task.run_seconds
    return task._replace(script=script, queue_seconds=queued, run_seconds=max(0.0, ran))


def _refuse(admission: Admission) -> FaultRule | None:
    """Raise what refused the request; else the rule that fired along with it, if any."""
    if admission is ADMITTED:  # the usual case
        return None
    rule = admission.rule
    if rule is not None and rule.blocks:
        raise FaultFired(rule)
    if admission.wait is not None:
        raise RateLimited(admission.wait)
    return rule


class Engine:
    def __init__(
        self,
        store: Store,
        clock: ClockState,
        *,
        timing: Timing = DEFAULT_TIMING,
        seed: int | None = None,
        credits: float | Mapping[str, float] | None = None,  # per key, per provider
        rate_limit: int = 0,
        keys: Iterable[str] = (),
        accept_any_key: bool = False,
        manual_start: float | None = None,
        id_block: int = 1,
    ) -> None:
        self.store = store
        # Journal an entry: the store's own verb (every request records one; no extra frame).
        self.record: Callable[[JournalFields], None] = store.record
        self.clock = Clock(clock)
        self.timing = timing
        self.seed = seed if seed is not None else secrets.randbelow(2**31)
        self.ids = Ids(self.seed)
        # Decided once: per provider, or one balance for all (an ABC `isinstance` on every create
        # cost it 1,900 instructions).
        self._balance_by_provider = credits if isinstance(credits, Mapping) else None
        self._balance = None if isinstance(credits, Mapping) else credits
        self.rate_limit = rate_limit
        self.keys = frozenset(keys)
        self.accept_any_key = accept_any_key
        self._manual_start = clock.fake if manual_start is None else manual_start
        self._id_block = id_block
        self.effects = Effects(store, self.now, self.jump_to)
        self.effects.on_timer(TASK_END, self._natural_end)
        self.node = 1  # this process's number among those sharing the store (`open`)
        # What happens, for the event stream and the metrics (`events.py`): each verb emits
        # only while someone listens.
        self.events = Emitter(self.now)
        self._forget_local()

    def _forget_local(self) -> None:
        self._blocks: dict[str, tuple[int, int]] = {}  # purpose -> (next number, last number)
        self._requests = itertools.count(1)

    async def open(self) -> None:
        """Join the store: a shared store's clock wins over this process's starting one."""
        await self.store.open()
        self.node = self.events.node = await self.store.join()
        stored = await self.store.load_clock()
        self._adopt(stored if stored is not None else await self.store.save_clock(self.clock.state))

    async def close(self) -> None:
        await self.store.close()

    @property
    def heartbeat(self) -> float | None:
        """Real seconds between the `beat()` calls the store needs (None: none)."""
        return self.store.heartbeat

    async def beat(self) -> None:
        await self.store.beat()

    def _adopt(self, state: ClockState) -> None:
        """Take up a clock from the store; one from a later reset (by any process) also
        drops what this process holds from before it."""
        reset_elsewhere = state.epoch != self.clock.state.epoch
        self.clock.set(state)
        if reset_elsewhere:
            self._forget_local()
            self.effects.reset_elsewhere()

    # -- keys, ids, the clock ----------------------------------------------------------

    def accepts(self, key: str | None) -> bool:
        """A known key, or any non-empty key when the fake accepts any."""
        if not key:
            return False
        return self.accept_any_key or key in self.keys

    def now(self) -> float:
        return self.clock.now()

    def watch_journal(self, watcher: Callable[[JournalFields], None] | None) -> None:
        """Hand each journal entry this process records to `watcher` as well; None: to the store
        only, the request path's one call (nothing is paid for a watcher nobody set)."""
        record = self.store.record
        if watcher is None:
            self.record = record
            return

        def recorded(fields: JournalFields) -> None:
            record(fields)
            watcher(fields)

        self.record = recorded

    async def number(self, purpose: str) -> int:
        """A fresh sequence number, from a block the store hands this process."""
        block = self._blocks.get(purpose)
        if block is None or block[0] > block[1]:
            first = await self.store.reserve(purpose, self._id_block)
            block = (first, first + self._id_block - 1)
        self._blocks[purpose] = (block[0] + 1, block[1])
        return block[0]

    def request_id(self) -> str:
        """An id for one answer (error bodies): seeded, and distinct between processes."""
        return self.ids.uuid4(f"request:{self.node}", next(self._requests))

    async def sync_clock(self) -> None:
        """Take up the store's clock if another process has moved it."""
        stored = await self.store.load_clock()
        if stored is not None and stored.version != self.clock.state.version:
            self._adopt(stored)

    async def jump_to(self, when: float) -> None:
        """Move fake time forward to `when` (never backwards), for every process."""
        while True:
            wanted = self.clock.state.moved_to(when, time.time())
            stood = await self.store.save_clock(wanted)
            self._adopt(stood)
            if stood == wanted and self.events.listening:
                self.events.emit(ClockMoved(stood), None)
            if stood == wanted or stood.now_at(time.time()) >= when:
                return

    # -- timed effects (`effects.py`) --------------------------------------------------

    def on_timer(self, kind: str, handler: TimerHandler, *, finishes_itself: bool = False) -> None:
        """Run `handler` for each due timer of `kind`; one that `finishes_itself` hands the
        work on and calls `finish(timer)` once it is done (until then the claim holds)."""
        self.effects.on_timer(kind, handler, finishes_itself=finishes_itself)

    def on_task_end(self, listener: TaskListener) -> None:
        self.effects.end_listeners.append(listener)

    def on_reset(self, listener: ResetListener) -> None:
        """Called when this process learns that another one reset the fake."""
        self.effects.reset_listeners.append(listener)

    async def schedule(self, *timers: Timer) -> None:
        await self.effects.schedule(*timers)

    async def next_due(self) -> float | None:
        return await self.store.next_due()

    async def run_due(self, limit: int | None = None) -> int:
        return await self.effects.run_due(limit)

    async def finish(self, *timers: Timer) -> None:
        """The work self-finishing handlers handed on is done: drop their claims."""
        await self.effects.finish(*timers)

    async def advance(
        self,
        seconds: float,
        settle: Callable[[], Awaitable[None]] | None = None,
        run_due: Callable[[], Awaitable[int]] | None = None,
    ) -> None:
        await self.effects.advance(seconds, settle, run_due)

    async def _natural_end(self, timer: Timer) -> None:
        task = await self.store.task(timer.subject)
        # A forced outcome emitted its own event; a plan given after creation moved the end
        # (and scheduled its own timer).
        if task is not None and task.ending is None and task.callback_due == timer.when:
            await self.effects.emit(task)

    # -- the request gate --------------------------------------------------------------

    def gate(self, operation: str, key: str | None, accepted: bool) -> Gate:
        limited = accepted and self.rate_limit > 0
        # positional: keyword matching would cost every request 4,000 instructions (Python 3.11)
        return Gate(
            operation, key, limited, self.rate_limit, self.clock.now(), self.clock.state.version, self.seed
        )

    def _fresh(self, gate: Gate, clock: ClockState) -> Gate:
        self._adopt(clock)
        return replace(gate, now=self.clock.now(), clock_version=clock.version)

    async def admit(self, gate: Gate) -> FaultRule | None:
        """Fault rules and the rate limit, for a request that reaches no verb; the rule that
        fired without refusing it, if any."""
        while (admission := await self.store.admit(gate)).clock is not None:
            gate = self._fresh(gate, admission.clock)
        if self.events.listening and admission.rule is not None:
            self.events.emit(RuleUsed(admission.rule), admission.rule.key)
        return _refuse(admission)

    # -- tasks -------------------------------------------------------------------------

    async def create(self, gate: Gate, new: NewTask) -> tuple[Task, FaultRule | None]:
        """The task created, and a fault rule that fired without refusing the create (its
        failure and callback plans, if any, are the task's)."""
        intern = sys.intern  # every task repeats these few strings: keep one copy of each
        while True:
            number = await self.number("task")
            now = gate.now
            task = Task(
                id=new.make_id(self.ids, number, now),
                number=number,
                provider=intern(new.provider),
                owner=intern(gate.key or ""),
                model=intern(new.model),
                created_at=now,
                queue_seconds=self.timing.queue_seconds,
                run_seconds=self.timing.run_seconds,
                duration=new.duration,
                aspect_ratio=intern(new.aspect_ratio),
                credits=new.credits,
                media_token=self.ids.hex("media", number),
                callback_url=new.callback_url,
                origin=intern(new.origin),
                plan=new.plan,
                callback_plan=new.callback,
            )
            if new.script is not None:  # a recorded lifecycle: its own timing (rare: not passed above)
                task = _replaying(task, new.script)
            timers = _end_timers(task)
            balance = self.starting_balance(task.provider)
            admission, outcome = await self.store.insert_task(gate, task, balance, timers)
            if admission.clock is not None:
                gate = self._fresh(gate, admission.clock)
                continue
            if self.events.listening and admission.rule is not None:
                self.events.emit(RuleUsed(admission.rule), admission.rule.key)
            rule = _refuse(admission)
            if outcome is Insert.TAKEN:  # numbers from before a reset elsewhere: take new ones
                self._blocks.pop("task", None)
                continue
            if outcome is Insert.NO_CREDITS:
                raise InsufficientCredits(gate.key)
            self.effects.scheduled(timers)
            if rule is not None and (rule.plan is not None or rule.callback is not None):
                task = await self._plan(task, rule)
            if self.events.listening:
                self.events.emit(TaskCreated(task), task.owner)
            return task, rule

    async def _plan(self, task: Task, rule: FaultRule) -> Task:
        """A rule's task and callback plans, given to the task it fired for (a second store
        write: rules that carry plans are rare, and only then is it needed)."""
        planned = task._replace(
            plan=rule.plan or task.plan, callback_plan=rule.callback or task.callback_plan
        )
        timers = _end_timers(planned)
        if await self.store.swap_task(task, planned) and timers and planned.callback_due != task.callback_due:
            await self.schedule(*timers)
        return planned

    async def get(self, gate: Gate, task_id: str) -> tuple[Task, FaultRule | None]:
        """The task if the gate's key owns it (TaskNotFound / TaskForbidden otherwise), and a
        fault rule that fired without refusing the read."""
        while True:
            admission, task = await self.store.read_task(gate, task_id)
            if admission.clock is None:
                break
            gate = self._fresh(gate, admission.clock)
        if self.events.listening and admission.rule is not None:
            self.events.emit(RuleUsed(admission.rule), admission.rule.key)
        rule = _refuse(admission)
        if task is None or self._expired(task, gate.now):
            raise TaskNotFound(task_id)
        if task.owner != gate.key:
            raise TaskForbidden(task_id)
        return task, rule

    def _expired(self, task: Task, now: float) -> bool:
        retention = self.timing.retention
        if retention is None or now < task.created_at + retention:  # a task never ends before
            return False  # it is created: the common case, without working out its end
        return now >= task.ends_at + retention

    async def find(self, task_id: str) -> Task:
        task = await self.store.task(task_id)
        if task is None or self._expired(task, self.now()):
            raise TaskNotFound(task_id)
        return task

    def observe(self, task: Task) -> Snapshot:
        return task.observe(self.clock.now())

    async def tasks(
        self, provider: str | None = None, after: int = 0, limit: int = 100
    ) -> tuple[list[Task], int | None]:
        """A page of live tasks in creation order after task number `after`, and where the next
        page starts (None on the last page)."""
        now = self.now()
        found = await self.store.tasks(provider, after, limit)
        last = found[-1].number if len(found) == limit else None
        return [task for task in found if not self._expired(task, now)], last

    async def count_tasks(self) -> int:
        return await self.store.count_tasks()

    def result_expires_at(self, task: Task, at: float | None = None) -> float | None:
        """When its result file goes (None: no result), as seen now or at fake time `at`."""
        snapshot = self.observe(task) if at is None else task.observe(at)
        if snapshot.status is not TaskStatus.SUCCEEDED or snapshot.ended_at is None:
            return None
        return snapshot.ended_at + self.timing.result_ttl

    async def media_task(self, token: str) -> Task | None:
        """The task whose result `token` names, if its file is still being served."""
        task = await self.store.task_by_media(token)
        if task is None:
            return None
        expires = self.result_expires_at(task)
        return task if expires is not None and self.now() < expires else None

    async def prune(self) -> int:
        """Forget what is past retention (tasks, their media and deliveries)."""
        if self.timing.retention is None:
            return 0
        lifetime = self.timing.queue_seconds + self.timing.run_seconds + self.timing.retention
        return await self.store.prune(self.now() - lifetime)

    # -- forced outcomes (control plane) -----------------------------------------------

    async def end(self, task_id: str, status: TaskStatus, failure: Failure | None = None) -> Task:
        """End an unfinished task now, succeeded or failed."""
        while True:
            task = await self.find(task_id)
            if self.observe(task).status.finished:
                raise TaskAlreadyFinished(task_id)
            ended = task._replace(ending=Ending(self.now(), status, failure))
            if await self.store.swap_task(task, ended):
                break
        if self.events.listening:
            self.events.emit(TaskEnded(ended), ended.owner)
        await self.effects.emit(ended)
        return ended

    # -- credits, fault rules, journal, deliveries -------------------------------------

    def starting_balance(self, provider: str) -> float | None:
        """Each key's balance at a provider, in its unit: one for all, or by provider."""
        if self._balance_by_provider is not None:
            return self._balance_by_provider.get(provider)
        return self._balance

    async def balance(self, key: str, provider: str) -> float | None:
        start = self.starting_balance(provider)
        if start is None:
            return None
        return start - await self.store.spent(key, provider)

    async def add_rule(self, rule: FaultRule) -> FaultRule:
        """Arm `rule` (its id is given here)."""
        armed = replace(rule, id=f"fault-{await self.number('fault')}")
        await self.store.add_rule(armed)
        if self.events.listening:
            self.events.emit(RuleAdded(armed), armed.key)
        return armed

    async def rules(self) -> list[FaultRule]:
        return await self.store.rules()

    async def clear_rules(self) -> None:
        await self.store.clear_rules()
        if self.events.listening:
            self.events.emit(RulesCleared(), None)

    async def journal(self, query: JournalQuery = EVERYTHING) -> list[JournalEntry]:
        return await self.store.journal(query)

    async def forget(self, key: str) -> int:
        """Forget one key's tasks, rules, journal, spending and rate limit (others keep theirs)."""
        forgotten = await self.store.forget(key)
        if self.events.listening:
            self.events.emit(Reset(key), key)
        return forgotten

    async def new_delivery(
        self,
        task_id: str,
        url: str,
        body: dict[str, Any],
        first_kind: str,
        delay: float = 0.0,
        dropped: bool = False,
    ) -> Delivery:
        """A delivery whose first attempt (a timer of `first_kind`) is due in `delay` fake
        seconds; a `dropped` one is recorded as such and never attempted."""
        now = self.now()
        number = await self.number("delivery")
        state = DROPPED if dropped else PENDING
        delivery = Delivery(f"cb-{number}", task_id, url, body, now, state)
        timers = () if dropped else (Timer(now + delay, first_kind, delivery.id, 1),)
        await self.store.put_delivery(delivery, timers)
        self.effects.scheduled(timers)
        if self.events.listening:
            self.events.emit(CallbackScheduled(delivery), await self._owner(task_id))
        return delivery

    async def delivery(self, delivery_id: str) -> Delivery | None:
        return await self.store.delivery(delivery_id)

    async def deliveries(self) -> list[Delivery]:
        return await self.store.deliveries()

    async def update_delivery(
        self, old: Delivery, new: Delivery, *timers: Timer, cancel: tuple[Timer, ...] = ()
    ) -> bool:
        """Swap in `new` (schedule `timers`, drop the waiting `cancel`) if `old` is still stored."""
        swapped = await self.store.swap_delivery(old, new, timers, cancel)
        if swapped:
            self.effects.scheduled(timers)
        if swapped and self.events.listening:
            concluded = [
                attempt.number
                for attempt in new.attempts
                if attempt.outcome != PENDING and attempt not in old.attempts
            ]
            key = await self._owner(new.task_id) if concluded else None
            for number in concluded:
                self.events.emit(CallbackAttempted(new, number), key)
        return swapped

    async def _owner(self, task_id: str) -> str | None:
        """The fingerprint of the key that owns a task (what a delivery's events are filtered by)."""
        task = await self.store.task(task_id)
        return None if task is None else task.owner

    async def reset(self) -> None:
        """Forget everything; the clock starts again (a manual clock at its start)."""
        state = self.clock.state
        fresh = starting_state(state.mode, state.speed, self._manual_start)
        fresh = replace(fresh, version=state.version + 1, epoch=state.epoch + 1)
        await self.store.reset(fresh)
        self.clock.set(fresh)
        self._forget_local()
        if self.events.listening:
            self.events.emit(Reset(None), None)
