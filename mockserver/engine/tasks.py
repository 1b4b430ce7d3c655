"""A task and its lifecycle, derived from the clock when read (nothing ticks in the background).

Engine layer. Statuses are neutral (QUEUED/RUNNING/SUCCEEDED/FAILED); each provider's words
live in `mockserver/providers/<slug>/`. A Task is immutable: a change is a new Task that the
store swaps in, so a store may hold copies and several processes may share one.
"""

from __future__ import annotations

import bisect
import enum
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from mockserver.engine.ids import Ids

MakeId = Callable[[Ids, int, float], str]  # (ids, sequence number, now) -> a provider's id


class TaskStatus(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    # Members are singletons compared by identity: hash them so too. Enum's own __hash__ is a
    # Python function, and every answer looks its status word up by status.
    __hash__ = object.__hash__

    @property
    def finished(self) -> bool:
        return self in (TaskStatus.SUCCEEDED, TaskStatus.FAILED)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why a task failed: a business code and an optional message."""

    code: str
    message: str | None = None
    at_start: bool = False  # fails when its run starts (an input the worker cannot use)
    after: float | None = None  # fails this many fake seconds after creation (0: at once, queued)


@dataclass(frozen=True, slots=True)
class Stall:
    """The task stops where it stands `after` fake seconds after creation (None: when it would
    have completed, at progress 99) and never ends by itself: only a forced outcome ends it."""

    after: float | None = None


Plan = Failure | Stall  # what becomes of a task instead of completing


@dataclass(frozen=True, slots=True)
class CallbackPlan:
    """What becomes of a task's callback: never sent, sent `copies` times, `delay` fake
    seconds after the end, or `early` fake seconds before the task query shows it."""

    drop: bool = False
    copies: int = 1
    delay: float = 0.0
    early: float = 0.0


@dataclass(frozen=True, slots=True)
class Ending:
    """An outcome forced before the natural end (control plane: complete, fail, cancel)."""

    at: float
    status: TaskStatus
    failure: Failure | None = None


@dataclass(frozen=True, slots=True)
class Observation:
    """How a task looked `offset` fake seconds after its creation, as a recording shows it."""

    offset: float
    status: TaskStatus
    progress: int
    remaining: int | None  # the ETA it showed, in whole seconds
    word: str | None = None  # the provider's own status word, where it is not the usual one


@dataclass(frozen=True, slots=True)
class Script:
    """A recorded lifecycle, another source of what a task looks like: at each offset from its
    creation it answers as the recording's latest observation at or before that offset did,
    and it ends as the recording ended (`failure`, or a result)."""

    observations: tuple[Observation, ...]  # by offset; the first is the create's answer (offset 0)
    failure: Failure | None = None

    @property
    def ends_after(self) -> float:
        """Offset of the first observation that shows it finished (inf: the recording never did)."""
        return next((o.offset for o in self.observations if o.status.finished), math.inf)

    @property
    def starts_after(self) -> float:
        """Offset of the first observation that shows it past the queue."""
        return next((o.offset for o in self.observations if o.status is not TaskStatus.QUEUED), math.inf)

    def at(self, offset: float) -> Observation:
        """The latest observation at or before `offset` (the first before any)."""
        index = bisect.bisect_right([o.offset for o in self.observations], offset)
        return self.observations[max(0, index - 1)]


@dataclass(slots=True)
class Snapshot:
    """What a task looks like at one instant: a value, made on every poll (slots, no frozen
    setattr: four times cheaper than a named tuple's keyword-matching constructor)."""

    status: TaskStatus
    progress: int
    remaining: int | None  # whole seconds until the end, while unfinished
    failure: Failure | None
    ended_at: float | None
    word: str | None = None  # the provider's own status word, where a recording used another


class Task(NamedTuple):  # a tuple: made on every create, 4x faster than a frozen dataclass
    id: str
    number: int  # creation order, unique per store
    provider: str
    owner: str  # fingerprint of the key that created it
    model: str
    created_at: float
    queue_seconds: float
    run_seconds: float
    duration: int
    aspect_ratio: str
    credits: float
    media_token: str
    callback_url: str | None = None
    origin: str = ""  # base URL the task was created through (result links in callbacks)
    plan: Plan | None = None  # ends failed, or stalls, instead of completing
    callback_plan: CallbackPlan | None = None
    ending: Ending | None = None
    script: Script | None = None  # a recorded lifecycle it replays (else: the timing above)

    @property
    def started_at(self) -> float:
        return self.created_at + self.queue_seconds

    @property
    def natural_end(self) -> float:
        return self.started_at + self.run_seconds

    @property
    def halts_at(self) -> float:
        """When its plan takes over: a time after creation, the start of its run (an input the
        worker cannot use), or else the end of its run; never later than that."""
        plan = self.plan
        if plan is not None and plan.after is not None:
            return min(self.created_at + plan.after, self.natural_end)
        if isinstance(plan, Failure) and plan.at_start:
            return self.started_at
        return self.natural_end

    @property
    def planned_end(self) -> float:
        """When it ends unless an outcome is forced (never, for a task that stalls)."""
        if self.script is not None:
            return self.created_at + self.script.ends_after
        return math.inf if isinstance(self.plan, Stall) else self.halts_at

    @property
    def ends_at(self) -> float:
        return self.ending.at if self.ending is not None else self.planned_end

    @property
    def callback_due(self) -> float:
        """When its callback is due at the natural end: `early` seconds before it, if so planned."""
        early = self.callback_plan.early if self.callback_plan is not None else 0.0
        return self.planned_end - early

    def _progress(self, at: float) -> int:
        """Percent of its run done at `at`: 0 until it starts, never above 99 before it ends."""
        ran = at - (self.created_at + self.queue_seconds)
        if ran <= 0 or self.run_seconds <= 0:
            return 0
        return min(99, math.floor(ran / self.run_seconds * 100))

    def observe(self, now: float) -> Snapshot:
        """The task at fake time `now`: a forced outcome once reached; else its plan once it
        halts (failed there, or stalled where it stood); else queued, running or succeeded."""
        ending = self.ending
        if ending is not None and now >= ending.at:
            progress = 100 if ending.status is TaskStatus.SUCCEEDED else self._progress(ending.at)
            return Snapshot(ending.status, progress, None, ending.failure, ending.at)
        if self.script is not None:
            return self._replayed(now)
        if self.plan is not None and now >= self.halts_at:
            return self._halted()
        started = self.created_at + self.queue_seconds
        end = started + self.run_seconds
        if now >= end:
            return Snapshot(TaskStatus.SUCCEEDED, 100, None, None, end)
        remaining = math.ceil(end - now)
        if now < started:
            return Snapshot(TaskStatus.QUEUED, 0, remaining, None, None)
        progress = math.floor((now - started) / self.run_seconds * 100)  # run_seconds > 0: now < end
        return Snapshot(TaskStatus.RUNNING, min(progress, 99), remaining, None, None)

    def as_created(self) -> Snapshot:
        """What the create's answer shows: queued, progress 0, the whole time ahead (or what a
        recording's create answer showed)."""
        if self.script is not None:
            first = self.script.observations[0]
            return Snapshot(first.status, first.progress, first.remaining, None, None, first.word)
        return Snapshot(TaskStatus.QUEUED, 0, round(self.queue_seconds + self.run_seconds), None, None)

    def _replayed(self, now: float) -> Snapshot:
        """What its recording showed at the same offset from creation."""
        assert self.script is not None
        seen = self.script.at(now - self.created_at)
        ended = self.created_at + seen.offset if seen.status.finished else None
        failure = self.script.failure if seen.status is TaskStatus.FAILED else None
        return Snapshot(seen.status, seen.progress, seen.remaining, failure, ended, seen.word)

    def _halted(self) -> Snapshot:
        """Where its plan left it: failed with its progress then, or stalled as it stood."""
        halted = self.halts_at
        if isinstance(self.plan, Failure):
            return Snapshot(TaskStatus.FAILED, self._progress(halted), None, self.plan, halted)
        status = TaskStatus.QUEUED if halted < self.started_at else TaskStatus.RUNNING
        remaining = max(0, math.ceil(self.natural_end - halted))
        return Snapshot(status, self._progress(halted), remaining, None, None)


@dataclass(frozen=True, slots=True)
class Timing:
    """About 2 s queued then about 77 s running; results live 24 h; records 7 days."""

    queue_seconds: float = 2.0
    run_seconds: float = 77.0
    result_ttl: float = 86400.0
    retention: float | None = 7 * 86400.0


class NewTask(NamedTuple):
    """What a create asks for, in neutral words (a tuple: made on every create)."""

    provider: str
    model: str
    duration: int
    aspect_ratio: str
    credits: float
    make_id: MakeId
    callback_url: str | None = None
    plan: Plan | None = None
    callback: CallbackPlan | None = None
    origin: str = ""
    script: Script | None = None
