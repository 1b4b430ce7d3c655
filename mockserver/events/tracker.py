"""Derived task events. A task's status and progress move with fake time without any verb
running, so each process works out `task.changed` and the natural `task.ended` itself, from the
tasks it has seen (`task.created`, forced ends) and the clock: a heap keyed by each task's next
transition on fake time, run up to a time when the clock moves or the runtime's timer says.

Progress is reported in steps (`step` percent: 0, 10, 20, ... by default), so a task's
lifecycle is a handful of events: running, each step, the end.

Events layer, beside the runtime: imports the engine's records only. When a transition falls is
asked of `Task.observe` (checked around the time the default lifecycle predicts, searched by
bisection otherwise), so any source of status and progress works that never goes backwards.
"""

from __future__ import annotations

import heapq
import itertools
import math
import time
from dataclasses import dataclass

from mockserver.engine.events import Event, TaskChanged, TaskEnded
from mockserver.engine.tasks import Task, TaskStatus

DEFAULT_STEP = 10  # percent
PRECISION = 1e-6  # fake seconds: how close to its true instant a transition is reported
Stage = tuple[TaskStatus, int]  # status and progress rounded down to a step


def stage(task: Task, at: float, step: int) -> Stage:
    snapshot = task.observe(at)
    progress = snapshot.progress if snapshot.status.finished else snapshot.progress // step * step
    return snapshot.status, progress


def _settled_at(task: Task) -> float:
    """A fake time from which the task no longer changes by itself."""
    if task.ending is not None:
        return task.ending.at
    end = task.planned_end
    if math.isfinite(end):
        return end
    if task.script is not None:  # a recording that never ended: its last observation
        return task.created_at + task.script.observations[-1].offset
    return task.halts_at


def _guess(task: Task, current: Stage, step: int) -> float:
    """When the default lifecycle moves on from `current`: the run's start, the next step, the end."""
    status, progress = current
    if status is TaskStatus.QUEUED:
        guess = task.started_at
    else:
        guess = task.started_at + task.run_seconds * min(100, progress + step) / 100
    return min(guess, _settled_at(task))


def next_change(task: Task, after: float, step: int) -> float | None:
    """The first fake time after `after` at which the task's stage is not what it is at `after`
    (None: it never changes again by itself)."""
    current = stage(task, after, step)
    if current[0].finished:
        return None
    settled = _settled_at(task)
    if settled <= after or stage(task, settled, step) == current:
        return None
    guess = max(_guess(task, current, step), after + PRECISION)
    for candidate in (guess, guess + PRECISION):
        if candidate <= settled and stage(task, candidate, step) != current:
            if stage(task, max(after, candidate - PRECISION), step) == current:
                return candidate
            return _search(task, after, candidate, current, step)
    return _search(task, after, settled, current, step)


def _search(task: Task, low: float, high: float, current: Stage, step: int) -> float:
    """Bisection: `current` holds at `low` and not at `high`."""
    while high - low > PRECISION:
        middle = (low + high) / 2
        if stage(task, middle, step) == current:
            low = middle
        else:
            high = middle
    return high


@dataclass(slots=True)
class _Tracked:
    task: Task
    stage: Stage
    version: int  # which heap entry is current (a task replaced leaves a stale one behind)


class Tracker:
    """The tasks this process follows, and when each next changes."""

    def __init__(self, step: int = DEFAULT_STEP, node: int | None = None) -> None:
        self.step = step
        self.node = node
        self.position = -math.inf  # fake time up to which transitions have been given out
        self._tasks: dict[str, _Tracked] = {}
        self._heap: list[tuple[float, int, str, int]] = []
        self._order = itertools.count()

    def __len__(self) -> int:
        return len(self._tasks)

    def follow(self, task: Task, at: float) -> None:
        """Follow `task` from fake time `at` (subscribers know it as it stands then)."""
        if task.id in self._tasks:
            return
        tracked = _Tracked(task, stage(task, at, self.step), next(self._order))
        if not tracked.stage[0].finished:
            self._tasks[task.id] = tracked
            self._schedule(tracked, at)

    def drop(self, task_id: str) -> None:
        """Stop following a task (it ended by force, or was forgotten)."""
        self._tasks.pop(task_id, None)

    def forget(self, key: str | None) -> None:
        """Drop one key's tasks, or every task (None)."""
        for tracked in list(self._tasks.values()):
            if key is None or tracked.task.owner == key:
                del self._tasks[tracked.task.id]
        if key is None:
            self._heap.clear()

    def next_due(self) -> float | None:
        """The fake time of the next transition, if any."""
        heap = self._heap
        while heap and self._stale(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def run_to(self, until: float, limit: int | None = None) -> list[Event]:
        """The transitions up to fake time `until`, in order, each once: all of them, or the
        first `limit` (ask again for the rest)."""
        events: list[Event] = []
        heap, tasks = self._heap, self._tasks
        while heap and heap[0][0] <= until:
            if limit is not None and len(events) >= limit:
                return events
            when, _, task_id, version = heapq.heappop(heap)
            tracked = tasks.get(task_id)
            if tracked is None or tracked.version != version:
                continue
            task, before = tracked.task, tracked.stage
            now = stage(task, when, self.step)
            if now[0].finished:
                del tasks[task_id]
                events.append(self._event(TaskEnded(task), when, task))
                continue
            tracked.stage = now
            events.append(self._event(TaskChanged(task, before[0], before[1]), when, task))
            self._schedule(tracked, when)
        self.position = max(self.position, until)
        return events

    def _event(self, data: TaskChanged | TaskEnded, when: float, task: Task) -> Event:
        return Event(data, when, time.time(), task.owner, self.node)

    def _schedule(self, tracked: _Tracked, after: float) -> None:
        when = next_change(tracked.task, after, self.step)
        if when is not None:
            heapq.heappush(self._heap, (when, next(self._order), tracked.task.id, tracked.version))

    def _stale(self, entry: tuple[float, int, str, int]) -> bool:
        tracked = self._tasks.get(entry[2])
        return tracked is None or tracked.version != entry[3]
