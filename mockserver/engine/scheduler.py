"""Timed side effects on the fake's clock: a heap of (when, seq, callback).

Engine layer. `run_due` runs what has fallen due in time order; the engine's `advance`
steps the clock from one due time to the next so effects see the time they were due at.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable

from mockserver.engine.clock import Clock

_NONE = object()  # "no argument" (None is a valid argument)


class Timer:
    """One scheduled call. Slots and a hand-written `__lt__`: a fake holding 100,000 tasks
    holds 100,000 timers, and heap operations compare them all the time."""

    __slots__ = ("argument", "callback", "cancelled", "seq", "when")

    def __init__(
        self, when: float, seq: int, callback: Callable[..., None], argument: object = _NONE
    ) -> None:
        self.when, self.seq, self.callback, self.argument = when, seq, callback, argument
        self.cancelled = False

    def __lt__(self, other: Timer) -> bool:
        return (self.when, self.seq) < (other.when, other.seq)

    def cancel(self) -> None:
        self.cancelled = True

    def run(self) -> None:
        if self.argument is _NONE:
            self.callback()
        else:
            self.callback(self.argument)


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self.on_schedule: Callable[[float], None] | None = None

    def call_at(self, when: float, callback: Callable[..., None], argument: object = _NONE) -> Timer:
        """Run `callback()` (or `callback(argument)`) when the clock reaches `when`."""
        timer = Timer(when, next(self._seq), callback, argument)
        heapq.heappush(self._heap, timer)
        if self.on_schedule is not None:
            self.on_schedule(when)
        return timer

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return self.call_at(self._clock.now() + delay, callback)

    def next_due(self) -> float | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0].when if self._heap else None

    def run_due(self) -> int:
        """Run every timer due by now, in order (including ones they schedule for now)."""
        ran = 0
        now = self._clock.now()
        while self._heap and self._heap[0].when <= now:
            timer = heapq.heappop(self._heap)
            if not timer.cancelled:
                timer.run()
                ran += 1
        return ran

    def clear(self) -> None:
        self._heap.clear()

    def __len__(self) -> int:
        return sum(1 for timer in self._heap if not timer.cancelled)
