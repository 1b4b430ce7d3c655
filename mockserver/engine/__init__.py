"""Provider-neutral task engine: tasks, clock, ids, faults, limits, journal, timers, and the
`Engine` whose verbs run over a store.

Imports neither Starlette, nor a provider, nor a store implementation.
"""

from mockserver.engine.clock import Clock, ClockState, starting_state
from mockserver.engine.engine import Engine
from mockserver.engine.errors import (
    EngineError,
    FaultFired,
    InsufficientCredits,
    RateLimited,
    TaskAlreadyFinished,
    TaskForbidden,
    TaskNotFound,
)
from mockserver.engine.tasks import Failure, NewTask, Snapshot, Task, TaskStatus, Timing

__all__ = [
    "Clock",
    "ClockState",
    "Engine",
    "EngineError",
    "Failure",
    "FaultFired",
    "InsufficientCredits",
    "NewTask",
    "RateLimited",
    "Snapshot",
    "Task",
    "TaskAlreadyFinished",
    "TaskForbidden",
    "TaskNotFound",
    "TaskStatus",
    "Timing",
    "starting_state",
]
