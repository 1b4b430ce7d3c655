"""Callback deliveries and their attempts, as records the store keeps.

Engine layer: data only; `mockserver/callbacks/` sends them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
DROPPED = "dropped"  # never sent, as its task's callback plan said (callback chaos)


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    time: float  # fake time the request was sent
    url: str
    outcome: str = "pending"  # success, http_error, redirect, timeout, connection_error, refused
    status_code: int | None = None
    duration: float = 0.0  # fake seconds until the outcome
    detail: str | None = None

    def concluded(self, outcome: str, status_code: int | None, detail: str | None, now: float) -> Attempt:
        """This attempt with its outcome, known at fake time `now`."""
        return Attempt(
            number=self.number,
            time=self.time,
            url=self.url,
            outcome=outcome,
            status_code=status_code,
            duration=round(now - self.time, 6),
            detail=detail,
        )

    def view(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "time": self.time,
            "url": self.url,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "duration": self.duration,
            "detail": self.detail,
        }


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    task_id: str
    url: str
    body: dict[str, Any]
    created_at: float
    state: str = PENDING
    attempts: tuple[Attempt, ...] = ()

    def with_attempts(self, attempts: tuple[Attempt, ...], state: str | None = None) -> Delivery:
        """This delivery with these attempts (and this state, if given)."""
        return Delivery(
            id=self.id,
            task_id=self.task_id,
            url=self.url,
            body=self.body,
            created_at=self.created_at,
            state=self.state if state is None else state,
            attempts=attempts,
        )

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "url": self.url,
            "state": self.state,
            "body": self.body,
            "attempts": [a.view() for a in self.attempts],
        }
