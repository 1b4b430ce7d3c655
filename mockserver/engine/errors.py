"""Domain errors the engine raises; the web layer maps each to a status in one table
(`mockserver/web/errors.py`).

Engine layer: imports nothing from the web side.
"""

from __future__ import annotations

from mockserver.engine.faults import FaultRule


class EngineError(Exception):
    """Base of every engine error."""


class TaskNotFound(EngineError):
    """No task with that id (or it has expired)."""


class TaskForbidden(EngineError):
    """The task exists but belongs to another key."""


class TaskAlreadyFinished(EngineError):
    """A forced outcome was asked of a task that has already ended."""


class InsufficientCredits(EngineError):
    """The key's balance cannot cover the task."""


class RateLimited(EngineError):
    """The key's rate limit is spent; `wait` fake seconds until its window resets."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:g} s")
        self.wait = wait


class FaultFired(EngineError):
    """A control-plane fault rule matched this request: answer its fault."""

    def __init__(self, rule: FaultRule) -> None:
        super().__init__(f"fault rule {rule.id}")
        self.rule = rule


class StoreUnavailable(EngineError):
    """The store does not answer (a shared store that is down or out of reach): the verb may
    not have happened. `where` names the store for people (no credentials)."""

    def __init__(self, where: str) -> None:
        super().__init__(f"the store at {where} does not answer")
        self.where = where
