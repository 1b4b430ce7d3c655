"""How the control plane shows things: its error envelope, the clock, tasks, fault rules.

Control layer.
"""

from __future__ import annotations

import math
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from mockserver.engine import ClockState, Task
from mockserver.fake import Fake
from mockserver.media.catalog import media_url
from mockserver.spec import FieldError, Operation
from mockserver.upstream.drift import Report

if TYPE_CHECKING:
    from mockserver.upstream.upstreams import Upstreams
from mockserver.web.errors import ApiError, Scope
from mockserver.web.responses import iso_millis, json_response

ERROR_WORDS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    500: "internal_error",
    502: "bad_gateway",
    503: "unavailable",
}


class ControlDialect:
    """`{"error": {"code", "message"}}` for the control plane and the file route."""

    foreign_task_status = 404

    def render(self, scope: Scope, op: Operation | None, error: ApiError) -> Response:
        message = error.message or "; ".join(map(str, error.errors))
        body: dict[str, Any] = {
            "error": {
                "code": ERROR_WORDS.get(error.status, "error"),
                "message": message or HTTPStatus(error.status).phrase,
            }
        }
        if error.param:
            body["error"]["param"] = error.param
        return json_response(body, error.status)

    def invalid(self, op: Operation, errors: list[FieldError], where: str) -> ApiError:
        return ApiError(400, param=errors[0].top, errors=tuple(errors))


def drift_view(upstream: Upstreams | None, report: Report) -> dict[str, Any]:
    """The drift report, with what it was made from: the upstreams, the budget, the recording."""
    settings = upstream.settings if upstream is not None else None
    return report.view() | {
        "upstreams": {slug: u.url for slug, u in upstream.by_slug.items()} if upstream is not None else {},
        "budget": {
            "max_creates": settings.max_creates if settings is not None else 0,
            "refused": upstream.refused if upstream is not None else 0,
        },
        "recording": settings.record if settings is not None else None,
    }


def clock_view(fake: Fake, state: ClockState | None = None) -> dict[str, Any]:
    """The clock now, or as `state` left it (an event's)."""
    clock = fake.engine.clock
    if state is None:
        now, mode, speed = clock.now(), clock.mode, clock.speed
    else:
        now, mode, speed = state.fake, state.mode, state.speed
    return {"now": now, "iso": iso_millis(now), "mode": mode, "speed": speed}


def task_view(fake: Fake, task: Task, base_url: str, at: float | None = None) -> dict[str, Any]:
    """The task now, or at fake time `at` (an event's)."""
    engine = fake.engine
    snapshot = engine.observe(task) if at is None else task.observe(at)
    expires = engine.result_expires_at(task, at)
    return {
        "id": task.id,
        "provider": task.provider,
        "key": task.owner,
        "status": snapshot.status.value,
        "provider_status": fake.providers[task.provider].status_words[snapshot.status],
        "progress": snapshot.progress,
        "estimated_time": snapshot.remaining,
        "created_at": task.created_at,
        "started_at": task.started_at,
        "ends_at": task.ends_at if math.isfinite(task.ends_at) else None,  # a stalled task never ends
        "duration": task.duration,
        "aspect_ratio": task.aspect_ratio,
        "credits": task.credits,
        "error_code": snapshot.failure.code if snapshot.failure else None,
        "result_url": media_url(base_url, task.media_token) if expires is not None else None,
        "result_expires_at": expires,
        "callback_url": task.callback_url,
    }
