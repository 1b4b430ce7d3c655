"""Timed effects on the fake's clock, as data: `(when, kind, subject, number)`, never a
closure, so any process sharing the store can run them.

Engine layer. The engine runs each kind through the handler registered for it.
"""

from __future__ import annotations

from typing import NamedTuple

TASK_END = "task_end"  # a task with a callback reached its natural end
CALLBACK = "callback"  # attempt `number` of callback delivery `subject` is due
CALLBACK_TIMEOUT = "callback_timeout"  # attempt `number` of delivery `subject` ran out of time


class Timer(NamedTuple):
    when: float
    kind: str
    subject: str  # a task id or a delivery id
    number: int = 0
