"""Everything that is the AI/ML API's own: status words, ids, bodies and the error envelope.

Provider layer: the only module that knows aimlapi's vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mockserver.engine import Failure, Snapshot, Task, TaskStatus
from mockserver.engine.ids import IdFactory
from mockserver.providers.common import iso_millis, json_response, media_url, retry_headers
from mockserver.routing import ApiError, FieldError
from mockserver.spec import Operation

SLUG = "aimlapi"
MODEL = "klingai/video-o1-image-to-video"
ASPECT_RATIO = "16:9"  # D14: aimlapi takes no aspect ratio; its docs show 1920x1080
STATUS_WORDS = {
    TaskStatus.QUEUED: "queued",
    TaskStatus.RUNNING: "generating",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "error",
}
FAILURE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# A.6 messages for statuses an operation does not list (router level).
# NestJS words both an unknown route and an unsupported method "Cannot <METHOD> <path>";
# the fake answers the latter 405 (RFC 9110), not NestJS's 404.
ROUTER_MESSAGES = {404: "Cannot {method} {path}", 405: "Cannot {method} {path}", 500: "Internal server error"}


def new_generation_id(ids: IdFactory, now: float) -> str:
    """D3: `<uuid4>:klingai/video-o1-image-to-video` (contains `:` and `/`)."""
    return f"{ids.uuid4('task')}:{MODEL}"


def duration_of(body: dict[str, Any]) -> int:
    """D4: 5, 10, "5" or "10" (the schema has already refused anything else)."""
    return int(body.get("duration", 5))


def meta(task: Task) -> dict[str, Any]:
    return {"usage": {"credits_used": task.credits}}


def render_created(task: Task) -> dict[str, Any]:
    return {"id": task.id, "status": "queued", "meta": meta(task)}


def render_generation(task: Task, snapshot: Snapshot, base_url: str) -> dict[str, Any]:
    """D5: all five fields; `video` only when completed, `error` only when error."""
    video = {"url": media_url(base_url, task)} if snapshot.status is TaskStatus.SUCCEEDED else None
    error = None
    if snapshot.failure is not None:
        code = snapshot.failure.code
        error = {"name": code, "message": snapshot.failure.message or f"Generation failed: {code}"}
    return {
        "id": task.id,
        "status": STATUS_WORDS[snapshot.status],
        "video": video,
        "error": error,
        "meta": meta(task),
    }


class AimlapiWire:
    slug = SLUG
    foreign_task_status = 404  # undocumented: do not reveal that the id exists

    def __init__(self, request_id: Callable[[], str], now: Callable[[], float]) -> None:
        self._request_id, self._now = request_id, now

    def error_response(self, request: Request, op: Operation | None, error: ApiError) -> Response:
        status = error.status
        if op is not None and status in op.responses:
            head = str(op.example_body(status)["message"]).split("\n")[0]
        else:
            head = ROUTER_MESSAGES.get(status, "Internal server error")
            head = head.format(method=request.method, path=request.url.path)
        details = "".join(f"\n{e.field}: {e.detail}" for e in error.errors)
        body = {
            "message": head + details,
            "path": request.url.path,
            "requestId": self._request_id(),
            "statusCode": status,
            "timestamp": iso_millis(self._now()),
        }
        return json_response(body, status, retry_headers(status, error.retry_after))

    def invalid(self, op: Operation, errors: list[FieldError], where: str) -> ApiError:
        return ApiError(400, errors=tuple(errors), where=where)

    def failure(self, code: str) -> Failure:
        if not FAILURE_NAME.match(code):
            raise ApiError(
                400,
                where="header",
                errors=(FieldError("X-Mock-Fail", f"{code!r} is not a valid error name"),),
            )
        return Failure(code)
