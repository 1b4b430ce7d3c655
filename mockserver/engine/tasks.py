"""A task and its lifecycle, derived from the clock when read (nothing ticks in the background).

Engine layer. Statuses are neutral (QUEUED/RUNNING/SUCCEEDED/FAILED); each provider's words
live in `mockserver/providers/<slug>/`. A Task is immutable: a change is a new Task that the
store swaps in, so a store may hold copies and several processes may share one.
"""

from __future__ import annotations

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
class CallbackPlan:
    """What becomes of a task's callback: never sent, sent `copies` times, `delay` fake
    seconds late."""

    drop: bool = False
    copies: int = 1
    delay: float = 0.0


@dataclass(frozen=True, slots=True)
class Ending:
    """An outcome forced before the natural end (control plane: complete, fail, cancel)."""

    at: float
    status: TaskStatus
    failure: Failure | None = None


class Snapshot(NamedTuple):
    """What a task looks like at one instant (a tuple: made on every poll, so cheap)."""

    status: TaskStatus
    progress: int
    remaining: int | None  # whole seconds until the end, while unfinished
    failure: Failure | None
    ended_at: float | None


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
    planned_failure: Failure | None = None  # ends failed instead of completing
    callback_plan: CallbackPlan | None = None
    ending: Ending | None = None

    @property
    def started_at(self) -> float:
        return self.created_at + self.queue_seconds

    @property
    def natural_end(self) -> float:
        return self.started_at + self.run_seconds

    @property
    def planned_end(self) -> float:
        """When it ends unless an outcome is forced: when its planned failure says (a time
        after creation, or the start of its run if its input is unusable), else at the end of
        its run; never later than that."""
        failure = self.planned_failure
        if failure is None:
            return self.natural_end
        if failure.after is not None:
            return min(self.created_at + failure.after, self.natural_end)
        return self.started_at if failure.at_start else self.natural_end

    @property
    def ends_at(self) -> float:
        return self.ending.at if self.ending is not None else self.planned_end

    def _progress(self, at: float) -> int:
        if at < self.started_at or self.run_seconds <= 0:
            return 0
        share = (at - self.started_at) / self.run_seconds
        return max(0, min(99, math.floor(share * 100)))

    def observe(self, now: float) -> Snapshot:
        # Every poll runs this: the properties' arithmetic inline, the progress clamped without
        # min/max calls, the snapshot made without NamedTuple's Python-level __new__.
        ending = self.ending
        if ending is not None and now >= ending.at:
            progress = 100 if ending.status is TaskStatus.SUCCEEDED else self._progress(ending.at)
            return _tuple(Snapshot, (ending.status, progress, None, ending.failure, ending.at))
        started = self.created_at + self.queue_seconds
        run = self.run_seconds
        natural_end = started + run
        end = natural_end if self.planned_failure is None else self.planned_end
        if now >= end:
            if self.planned_failure is not None:
                return Snapshot(TaskStatus.FAILED, self._progress(end), None, self.planned_failure, end)
            return _tuple(Snapshot, (_SUCCEEDED, 100, None, None, end))
        remaining = math.ceil(natural_end - now)
        if now < started:
            return _tuple(Snapshot, (_QUEUED, 0, remaining, None, None))
        # `_progress`, inline: the share is not negative here, so int() floors it
        progress = int((now - started) / run * 100) if run > 0 else 0
        return _tuple(Snapshot, (_RUNNING, progress if progress < 99 else 99, remaining, None, None))


_tuple = tuple.__new__  # a NamedTuple from a tuple, as `_make` does without its Python frame
_QUEUED, _RUNNING, _SUCCEEDED = TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.SUCCEEDED


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
    failure: Failure | None = None
    callback: CallbackPlan | None = None
    origin: str = ""
