"""Our own schemathesis checks, on top of the defaults: the provider's error envelope on every
non-2xx answer, statuses that only move forward, progress that never falls, and a result
exactly when completed. Importing this module registers them for every schemathesis run.

Contracts layer.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

from contracts.specs import COMPLETED, PROVIDERS, STATUS_ORDER, error_validator, provider_of_path

ERROR_VALIDATORS = {provider: error_validator(provider) for provider in PROVIDERS}
# Per task id: (status rank, progress) last seen in this process, for the forward-only checks.
_seen: dict[str, tuple[int, int]] = {}


def reset_history() -> None:
    _seen.clear()


def _json(response: Any) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} answer is not JSON") from None


@schemathesis.check
def provider_error_envelope(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """Every 4xx/5xx answer carries the provider's documented error envelope."""
    if response.status_code < 400:
        return None
    provider = provider_of_path(case.operation.path)
    errors = [
        f"{'/'.join(map(str, e.instance_path)) or 'body'}: {e.message}"
        for e in ERROR_VALIDATORS[provider].iter_errors(_json(response))
    ]
    if errors:
        raise AssertionError(f"{response.status_code} body is not the {provider} error envelope: {errors}")
    return True


def _task_body(response: schemathesis.Response, case: Any) -> tuple[str, dict[str, Any]] | None:
    if not 200 <= response.status_code < 300:
        return None
    provider = provider_of_path(case.operation.path)
    body = _json(response)
    if not isinstance(body, dict) or "status" not in body or "id" not in body:
        return None
    return provider, body


@schemathesis.check
def lifecycle_moves_forward(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """A task's status never moves back and its progress never falls."""
    found = _task_body(response, case)
    if found is None:
        return None
    provider, body = found
    rank = STATUS_ORDER[provider].get(str(body["status"]))
    if rank is None:
        raise AssertionError(f"unknown {provider} status {body['status']!r}")
    progress = int(body.get("progress") or 0)
    before = _seen.get(str(body["id"]))
    if before is not None:
        if rank < before[0]:
            raise AssertionError(f"task {body['id']} moved back to {body['status']!r}")
        if progress < before[1]:
            raise AssertionError(f"task {body['id']} progress fell from {before[1]} to {progress}")
    _seen[str(body["id"])] = (
        max(rank, before[0] if before else 0),
        max(progress, before[1] if before else 0),
    )
    return True


@schemathesis.check
def result_exactly_when_completed(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Any
) -> bool | None:
    """evolink `results` / aimlapi `video.url` are present exactly when the task is completed."""
    found = _task_body(response, case)
    if found is None:
        return None
    provider, body = found
    completed = body["status"] == COMPLETED[provider]
    has_result = (
        bool(body.get("results")) if provider == "evolink" else bool((body.get("video") or {}).get("url"))
    )
    if completed != has_result:
        what = "no result" if completed else "a result"
        raise AssertionError(f"{provider} task {body['id']} is {body['status']!r} with {what}")
    return True
