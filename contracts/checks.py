"""Our own schemathesis checks, on top of the defaults: the provider's error envelope on every
non-2xx answer, statuses that only move forward, progress that never falls, and a result
exactly when completed.

Contracts layer. The checks of one provider are bound methods of a `LifecycleChecks`, which
remembers what it saw in its own run (no state shared between runs); pass `.all()` as
`additional_checks`.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

from contracts.specs import error_validator, id_pointer, pointer
from mockserver.engine import TaskStatus
from mockserver.providers import Provider


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} answer is not JSON") from None


class LifecycleChecks:
    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.order = provider.status_order()
        self.completed = provider.status_words[TaskStatus.SUCCEEDED]
        self._errors = error_validator(provider)
        self._id = id_pointer(provider)
        self._seen: dict[str, tuple[int, int]] = {}  # task id -> (status rank, progress)

    def all(self) -> list[Any]:
        return [
            self.provider_error_envelope,
            self.lifecycle_moves_forward,
            self.result_exactly_when_completed,
        ]

    def provider_error_envelope(
        self, ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
    ) -> bool | None:
        """Every 4xx/5xx answer carries the provider's documented error envelope."""
        if response.status_code < 400:
            return None
        errors = [
            f"{'/'.join(map(str, e.instance_path)) or 'body'}: {e.message}"
            for e in self._errors.iter_errors(_json(response))
        ]
        if errors:
            raise AssertionError(
                f"{response.status_code} body is not the {self.provider.slug} error envelope: {errors}"
            )
        return True

    def _task(self, response: schemathesis.Response) -> tuple[str, str, dict[str, Any]] | None:
        """(task id, status word, body) of a 2xx answer that shows a task."""
        if not 200 <= response.status_code < 300:
            return None
        body = _json(response)
        task_id, status = pointer(body, self._id), pointer(body, self.provider.status_pointer)
        if task_id is None or status is None:
            return None
        return str(task_id), str(status), body

    def lifecycle_moves_forward(
        self, ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
    ) -> bool | None:
        """A task's status never moves back and its progress never falls."""
        found = self._task(response)
        if found is None:
            return None
        task_id, status, body = found
        rank = self.order.get(status)
        if rank is None:
            raise AssertionError(f"unknown {self.provider.slug} status {status!r}")
        progress_pointer = self.provider.progress_pointer
        progress = int((pointer(body, progress_pointer) if progress_pointer else 0) or 0)
        before = self._seen.get(task_id, (0, 0))
        if rank < before[0]:
            raise AssertionError(f"task {task_id} moved back to {status!r}")
        if progress < before[1]:
            raise AssertionError(f"task {task_id} progress fell from {before[1]} to {progress}")
        self._seen[task_id] = (max(rank, before[0]), max(progress, before[1]))
        return True

    def result_exactly_when_completed(
        self, ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
    ) -> bool | None:
        """The result URL is present exactly when the task is completed."""
        found = self._task(response)
        if found is None:
            return None
        task_id, status, body = found
        completed = status == self.completed
        has_result = bool(pointer(body, self.provider.result_pointer))
        if completed != has_result:
            what = "no result" if completed else "a result"
            raise AssertionError(f"{self.provider.slug} task {task_id} is {status!r} with {what}")
        return True
