"""What happens in the fake, as typed events: one record per kind (the kind's data), emitted once
by the engine's verbs where the thing happens, in an envelope saying when, whose and by which
process. The event stream, the dashboard and the metrics are subscribers (`mockserver/events/`,
`mockserver/metrics/`); a verb emits only while someone listens (one attribute test otherwise).

Engine layer: imports the engine's records only. Status and progress change with fake time
without any verb running: `task.changed` and natural ends are derived from `task.created` and
the clock by each process's tracker (`mockserver/events/tracker.py`), not emitted here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from mockserver.engine.clock import ClockState
from mockserver.engine.deliveries import Delivery
from mockserver.engine.faults import FaultRule
from mockserver.engine.journal import JournalEntry
from mockserver.engine.tasks import Task, TaskStatus


@dataclass(frozen=True, slots=True)
class TaskCreated:
    KIND: ClassVar[str] = "task.created"
    ABOUT: ClassVar[str] = "a task was created (as the create answered it)"
    task: Task


@dataclass(frozen=True, slots=True)
class TaskChanged:
    KIND: ClassVar[str] = "task.changed"
    ABOUT: ClassVar[str] = (
        "its status, or its progress by a step (MOCKSERVER_EVENTS_PROGRESS_STEP), changed with fake time"
    )
    task: Task
    status: TaskStatus  # before the change
    progress: int


@dataclass(frozen=True, slots=True)
class TaskEnded:
    KIND: ClassVar[str] = "task.ended"
    ABOUT: ClassVar[str] = "it ended (completed, failed or cancelled): once per task"
    task: Task


@dataclass(frozen=True, slots=True)
class Requested:
    KIND: ClassVar[str] = "request"
    ABOUT: ClassVar[str] = "a provider or file request, as the journal recorded it"
    entry: JournalEntry


@dataclass(frozen=True, slots=True)
class CallbackScheduled:
    KIND: ClassVar[str] = "callback.scheduled"
    ABOUT: ClassVar[str] = "a callback delivery was made (a task ended, or a redelivery)"
    delivery: Delivery


@dataclass(frozen=True, slots=True)
class CallbackAttempted:
    KIND: ClassVar[str] = "callback.attempt"
    ABOUT: ClassVar[str] = "a callback attempt has its outcome"
    delivery: Delivery
    number: int  # the attempt's number (from 1)


@dataclass(frozen=True, slots=True)
class ClockMoved:
    KIND: ClassVar[str] = "clock.moved"
    ABOUT: ClassVar[str] = "fake time was moved (an advance, or a due effect on a manual clock)"
    clock: ClockState


@dataclass(frozen=True, slots=True)
class RuleAdded:
    KIND: ClassVar[str] = "rule.added"
    ABOUT: ClassVar[str] = "a fault rule was armed"
    rule: FaultRule


@dataclass(frozen=True, slots=True)
class RuleUsed:
    KIND: ClassVar[str] = "rule.used"
    ABOUT: ClassVar[str] = "a fault rule fired for a request (as it stands after the use)"
    rule: FaultRule


@dataclass(frozen=True, slots=True)
class RulesCleared:
    KIND: ClassVar[str] = "rules.cleared"
    ABOUT: ClassVar[str] = "every fault rule was disarmed"


@dataclass(frozen=True, slots=True)
class Reset:
    KIND: ClassVar[str] = "reset"
    ABOUT: ClassVar[str] = "everything was forgotten (key null), or one key's state"
    key: str | None  # a key's fingerprint; None: the whole fake


EventData = (
    TaskCreated
    | TaskChanged
    | TaskEnded
    | Requested
    | CallbackScheduled
    | CallbackAttempted
    | ClockMoved
    | RuleAdded
    | RuleUsed
    | RulesCleared
    | Reset
)
KINDS: dict[str, type[EventData]] = {
    kind.KIND: kind
    for kind in (
        TaskCreated,
        TaskChanged,
        TaskEnded,
        Requested,
        CallbackScheduled,
        CallbackAttempted,
        ClockMoved,
        RuleAdded,
        RuleUsed,
        RulesCleared,
        Reset,
    )
}


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened: its data, at fake time `time` (real Unix time `wall`), whose
    (`key`: a key's fingerprint, None for what concerns everyone), emitted by process `node`
    (None when not known: the journal does not record which process answered)."""

    data: EventData
    time: float
    wall: float
    key: str | None
    node: int | None

    @property
    def kind(self) -> str:
        return self.data.KIND


Listener = Callable[[Event], None]


class Emitter:
    """The engine's side of the events: its verbs call `emit` while `listening`. Listeners are
    called at once, on the event loop, and must only take the event (a queue, a counter): the
    verb that emits is often a provider request's."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self.node: int | None = None  # set when the engine joins its store
        self.listeners: tuple[Listener, ...] = ()
        self.listening = False

    def listen(self, listener: Listener) -> None:
        self.listeners = (*self.listeners, listener)
        self.listening = True

    def unlisten(self, listener: Listener) -> None:
        self.listeners = tuple(known for known in self.listeners if known != listener)
        self.listening = bool(self.listeners)

    def emit(self, data: EventData, key: str | None) -> None:
        event = Event(data, self.now(), time.time(), key, self.node)
        for listener in self.listeners:
            listener(event)
