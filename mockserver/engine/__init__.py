"""Provider-neutral task engine: tasks, clock, scheduler, store, billing, faults, journal.

Imports neither starlette nor `mockserver.providers`; provider words never appear here.
"""

from mockserver.engine.clock import Clock, ManualClock, RealClock
from mockserver.engine.engine import Engine, Timing
from mockserver.engine.errors import (
    EngineError,
    InsufficientCredits,
    TaskAlreadyFinished,
    TaskForbidden,
    TaskNotFound,
)
from mockserver.engine.tasks import Failure, Snapshot, Task, TaskStatus

__all__ = [
    "Clock",
    "Engine",
    "EngineError",
    "Failure",
    "InsufficientCredits",
    "ManualClock",
    "RealClock",
    "Snapshot",
    "Task",
    "TaskAlreadyFinished",
    "TaskForbidden",
    "TaskNotFound",
    "TaskStatus",
    "Timing",
]
