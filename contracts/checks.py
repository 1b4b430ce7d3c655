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

from contracts.specs import error_validator, pointer
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

    def _task_body(self, response: schemathesis.Response) -> dict[str, Any] | None:
        if not 200 <= response.status_code < 300:
            return None
        body = _json(response)
        if not isinstance(body, dict) or "status" not in body or "id" not in body:
            return None
        return body

    def lifecycle_moves_forward(
        self, ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
    ) -> bool | None:
        """A task's status never moves back and its progress never falls."""
        body = self._task_body(response)
        if body is None:
            return None
        rank = self.order.get(str(body["status"]))
        if rank is None:
            raise AssertionError(f"unknown {self.provider.slug} status {body['status']!r}")
        progress_pointer = self.provider.progress_pointer
        progress = int((pointer(body, progress_pointer) if progress_pointer else 0) or 0)
        before = self._seen.get(str(body["id"]))
        if before is not None:
            if rank < before[0]:
                raise AssertionError(f"task {body['id']} moved back to {body['status']!r}")
            if progress < before[1]:
                raise AssertionError(f"task {body['id']} progress fell from {before[1]} to {progress}")
        self._seen[str(body["id"])] = (
            max(rank, before[0] if before else 0),
            max(progress, before[1] if before else 0),
        )
        return True

    def result_exactly_when_completed(
        self, ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
    ) -> bool | None:
        """The result URL is present exactly when the task is completed."""
        body = self._task_body(response)
        if body is None:
            return None
        completed = body["status"] == self.completed
        has_result = bool(pointer(body, self.provider.result_pointer))
        if completed != has_result:
            what = "no result" if completed else "a result"
            raise AssertionError(f"{self.provider.slug} task {body['id']} is {body['status']!r} with {what}")
        return True
