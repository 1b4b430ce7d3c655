"""Injected faults: control-plane rules ("the next N requests to X answer S") and a
per-key request rate limit on the fake's clock.

Engine layer: decides *whether* a request fails; the adapters render the provider's body.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(slots=True)
class FaultRule:
    id: str
    operation: str
    status: int
    remaining: int
    key: str | None = None
    retry_after: int | None = None

    def matches(self, operation: str, key: str | None) -> bool:
        return self.operation == operation and (self.key is None or self.key == key)


class FaultBook:
    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def add(
        self,
        operation: str,
        status: int,
        count: int = 1,
        key: str | None = None,
        retry_after: int | None = None,
    ) -> FaultRule:
        rule = FaultRule(f"fault-{self._next_id}", operation, status, count, key, retry_after)
        self._next_id += 1
        self._rules.append(rule)
        return rule

    def take(self, operation: str, key: str | None) -> FaultRule | None:
        """The first armed rule for this request, spending one of its uses."""
        if not self._rules:  # the usual case, on every request
            return None
        for rule in self._rules:
            if rule.matches(operation, key):
                rule.remaining -= 1
                if rule.remaining <= 0:
                    self._rules.remove(rule)
                return rule
        return None

    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def clear(self) -> None:
        self._rules.clear()


class RateLimiter:
    """At most `per_minute` requests per key in each fixed 60 s window of fake time."""

    WINDOW = 60.0

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, now: float) -> int | None:
        """Count a request; None if allowed, else whole seconds until the window resets."""
        if self.per_minute <= 0:
            return None
        start = math.floor(now / self.WINDOW) * self.WINDOW
        window_start, count = self._windows.get(key, (start, 0))
        if window_start != start:
            window_start, count = start, 0
        if count >= self.per_minute:
            return max(1, math.ceil(window_start + self.WINDOW - now))
        self._windows[key] = (window_start, count + 1)
        return None

    def clear(self) -> None:
        self._windows.clear()
