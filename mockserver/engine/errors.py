"""Domain errors the engine raises; the provider adapters turn them into wire errors.

Engine layer: imports nothing from the web side.
"""

from __future__ import annotations


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

    def __init__(self, key: str, needed: float, balance: float) -> None:
        super().__init__(f"needs {needed} credits, balance {balance}")
        self.key, self.needed, self.balance = key, needed, balance
