"""Tasks as a recording shows them: each one's trail of sightings (the create answer, every task
query, every callback), the queue and run times they bound, and the lifecycle drift they show
against the fake's own lifecycle: a status order its state machine never produces, progress
going down, a queue or run time far from its settings, a callback that differs from the task
query's body or comes before the query shows the end.

Upstream layer: provider words arrive through the shape only.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from mockserver.engine import TaskStatus
from mockserver.settings import Settings
from mockserver.upstream.shape import Shape

# Real seconds of slack for any timing: a poll's interval and the network blur a boundary.
SLACK = 1.0
FINISHED_RANK = 2  # Provider.status_order: a finished status's place


@dataclass(frozen=True, slots=True)
class Profile:
    """The fake's lifecycle in real seconds (its settings at its speed), and how far a recording
    may stray from it before that is drift."""

    queue: float
    run: float
    factor: float
    speed: float = 1.0

    @classmethod
    def of(cls, settings: Settings) -> Profile:
        speed = settings.speed
        return cls(
            settings.queue_seconds / speed, settings.run_seconds / speed, settings.drift_time_factor, speed
        )

    def outside(self, low: float, high: float, expected: float) -> bool:
        """An interval that cannot hold a time within the factor of `expected`."""
        return high < expected / self.factor - SLACK or low > expected * self.factor + SLACK


@dataclass(frozen=True, slots=True)
class Sighting:
    at: float  # Unix seconds the exchange began
    word: str | None  # the status word shown
    status: TaskStatus | None  # its neutral status (None: a word the provider record does not know)
    progress: float | None
    failure: str | None  # a failed task's business code
    query: bool  # a task query (else the create answer)


@dataclass(eq=False)
class Trail:
    """One task, as the exchanges show it."""

    provider: str
    task: str
    created: float | None = None
    asked_callback: bool = False
    sightings: list[Sighting] = field(default_factory=list)  # in time order
    bodies: dict[str, tuple[float, Any]] = field(default_factory=dict)  # word -> latest task-query body
    callbacks: list[tuple[float, Any]] = field(default_factory=list)  # (time, body)

    def see(self, sighting: Sighting, body: Any) -> None:
        bisect.insort(self.sightings, sighting, key=lambda s: s.at)
        if sighting.query and sighting.word is not None:
            latest = self.bodies.get(sighting.word)
            if latest is None or latest[0] <= sighting.at:
                self.bodies[sighting.word] = (sighting.at, body)

    def _bounds(self, before: set[TaskStatus], after: set[TaskStatus]) -> tuple[float, float] | None:
        """When the task left `before` for `after`: between the last sighting in `before` and the
        first in `after` that follows it."""
        last = None
        for sighting in self.sightings:
            if sighting.status in before:
                last = sighting
            elif sighting.status in after and last is not None:
                return last.at, sighting.at
        return None

    def started(self) -> tuple[float, float] | None:
        """When its run began (it was seen queued, then running)."""
        return self._bounds({TaskStatus.QUEUED}, {TaskStatus.RUNNING})

    def queue_time(self) -> tuple[float, float] | None:
        started = self.started()
        if started is None or self.created is None:
            return None
        return started[0] - self.created, started[1] - self.created

    def run_time(self) -> tuple[float, float] | None:
        """Its run's length, for a task seen start and complete."""
        started = self.started()
        ended = self._bounds({TaskStatus.RUNNING}, {TaskStatus.SUCCEEDED})
        if started is None or ended is None:
            return None
        return max(0.0, ended[0] - started[1]), ended[1] - started[0]

    def still_running(self) -> float | None:
        """How long it has surely been running, when the last sighting shows it running."""
        started = self.started()
        if started is None or not self.sightings or self.sightings[-1].status is not TaskStatus.RUNNING:
            return None
        return self.sightings[-1].at - started[1]

    def failures(self) -> list[str]:
        return sorted({s.failure for s in self.sightings if s.failure is not None})

    def outcome(self) -> TaskStatus | None:
        finished = [s.status for s in self.sightings if s.status is not None and s.status.finished]
        return finished[-1] if finished else None


Judged = Iterator[tuple[str, str, str]]  # (operation, kind, detail)


def judge(trail: Trail, shape: Shape, profile: Profile) -> Judged:
    """The lifecycle drift one task shows."""
    retrieve = shape.provider.retrieve_operation
    yield from ((retrieve, kind, detail) for kind, detail in _order(trail, shape))
    yield from ((retrieve, kind, detail) for kind, detail in _timing(trail, profile))
    callback = shape.callback_operation or "callback"
    yield from ((callback, kind, detail) for kind, detail in _callbacks(trail, shape))


def _order(trail: Trail, shape: Shape) -> Iterator[tuple[str, str]]:
    rank, previous = shape.provider.status_order(), None
    for sighting in trail.sightings:
        if sighting.status is None or sighting.word is None:
            continue
        if previous is not None and previous.word is not None:
            was, now = rank[previous.word], rank[sighting.word]
            ended_then_changed = was == FINISHED_RANK and sighting.word != previous.word
            if now < was or ended_then_changed:
                yield "status_order", f"{trail.task}: {previous.word!r} then {sighting.word!r}"
            before, after = previous.progress, sighting.progress
            if before is not None and after is not None and after < before:
                later = sighting.at - previous.at
                yield "progress_down", f"{trail.task}: {before:g} then {after:g} ({later:.1f} s later)"
        previous = sighting


def _timing(trail: Trail, profile: Profile) -> Iterator[tuple[str, str]]:
    queued = trail.queue_time()
    if queued is not None and profile.outside(*queued, profile.queue):
        yield "queue_time", f"{trail.task}: queued {_span(queued)}; the fake queues {profile.queue:g} s"
    ran = trail.run_time()
    if ran is not None and profile.outside(*ran, profile.run):
        yield "run_time", f"{trail.task}: ran {_span(ran)}; the fake runs {profile.run:g} s"
    running = trail.still_running()
    if ran is None and running is not None and running > profile.run * profile.factor + SLACK:
        yield (
            "run_time",
            f"{trail.task}: still running after {running:.1f} s; the fake runs {profile.run:g} s",
        )


def _span(bounds: tuple[float, float]) -> str:
    low, high = bounds
    return f"{low:.1f}-{high:.1f} s" if high - low >= 0.05 else f"{high:.1f} s"


def _callbacks(trail: Trail, shape: Shape) -> Iterator[tuple[str, str]]:
    for at, body in trail.callbacks:
        word = shape.word(body)
        query = trail.bodies.get(word) if isinstance(word, str) else None
        if query is not None:
            difference = differs(body, query[1])
            if difference is not None:
                yield "callback_body", f"{trail.task}: {difference}"
        later = [s for s in trail.sightings if s.query and s.at > at]
        unfinished = next((s for s in later if s.status is not None and not s.status.finished), None)
        if unfinished is not None:
            after = unfinished.at - at
            yield (
                "callback_early",
                f"{trail.task}: the task query showed {unfinished.word!r} {after:.1f} s after it",
            )


def _plain(value: Any) -> Any:
    """A body compared without what may differ between two answers of the same moment: the query
    strings of URLs (a signed result link is signed afresh for each answer)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str) and value.startswith(("http://", "https://")):
        return urlunsplit(urlsplit(value)._replace(query=""))
    return value


def differs(callback: Any, query: Any, where: str = "") -> str | None:
    """The first place a callback body differs from the task query's, or None."""
    a, b = _plain(callback), _plain(query)
    if isinstance(a, dict) and isinstance(b, dict):
        for name in sorted(set(a) | set(b)):
            path = f"{where}.{name}" if where else name
            if name not in b:
                return f"{path}: only in the callback"
            if name not in a:
                return f"{path}: only in the task query"
            found = differs(a[name], b[name], path)
            if found is not None:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return next(
            (d for i, (x, y) in enumerate(zip(a, b, strict=True)) if (d := differs(x, y, f"{where}[{i}]"))),
            None,
        )
    if a != b:
        return f"{where or 'body'}: callback {json.dumps(a)[:60]}, task query {json.dumps(b)[:60]}"
    return None
