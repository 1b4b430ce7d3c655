"""Tasks by id, with ownership and retention: domain verbs that return tasks or raise.

Engine layer.
"""

from __future__ import annotations

from collections.abc import Iterator

from mockserver.engine.errors import TaskForbidden, TaskNotFound
from mockserver.engine.tasks import Task


class TaskStore:
    def __init__(self, retention_seconds: float | None) -> None:
        self._retention = retention_seconds
        self._tasks: dict[str, Task] = {}
        self._by_media: dict[str, Task] = {}

    def add(self, task: Task) -> None:
        self._tasks[task.id] = task
        self._by_media[task.media_token] = task

    def _expired(self, task: Task, now: float) -> bool:
        return self._retention is not None and now >= task.ends_at + self._retention

    def find(self, task_id: str, now: float) -> Task:
        task = self._tasks.get(task_id)
        if task is None or self._expired(task, now):
            raise TaskNotFound(task_id)
        return task

    def owned(self, task_id: str, key: str, now: float) -> Task:
        task = self.find(task_id, now)
        if task.owner != key:
            raise TaskForbidden(task_id)
        return task

    def by_media(self, token: str) -> Task | None:
        return self._by_media.get(token)

    def __iter__(self) -> Iterator[Task]:
        return iter(self._tasks.values())

    def __len__(self) -> int:
        return len(self._tasks)
