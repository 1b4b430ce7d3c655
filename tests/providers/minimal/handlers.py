"""The minimal provider's handlers, named after its spec's operationIds."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from mockserver.engine import Engine, NewTask, Snapshot, Task, TaskStatus
from mockserver.engine.ids import Ids
from mockserver.media.catalog import media_url
from mockserver.settings import Settings
from mockserver.spec import FieldError, Operation
from mockserver.web.errors import ApiError, Scope
from mockserver.web.pipeline import Call
from mockserver.web.responses import json_response

SLUG = "minimal"
WORDS = {
    TaskStatus.QUEUED: "waiting",
    TaskStatus.RUNNING: "busy",
    TaskStatus.SUCCEEDED: "done",
    TaskStatus.FAILED: "broken",
}
PRICES = {5: 1, 10: 2}


def job_id(ids: Ids, number: int, now: float) -> str:
    return "job-" + ids.token("task", number, 6)


def render(task: Task, snapshot: Snapshot, base_url: str) -> dict[str, Any]:
    body: dict[str, Any] = {"job_id": task.id, "state": WORDS[snapshot.status]}
    if snapshot.status is TaskStatus.SUCCEEDED:
        body["output"] = media_url(base_url, task.media_token)
    if snapshot.failure is not None:
        body["why"] = snapshot.failure.code
    return body


async def create_job(call: Call) -> Response:
    seconds = call.body.get("seconds", 5)
    new = NewTask(SLUG, "minimal-model", seconds, "1:1", PRICES[seconds], job_id, plan=call.plan)
    task = await call.create(new)
    return json_response(render(task, call.engine.observe(task), call.base_url))


async def get_job(call: Call) -> Response:
    task = await call.read(call.params["job_id"])
    return json_response(render(task, call.engine.observe(task), call.base_url))


class ProblemDialect:
    foreign_task_status = 404

    def __init__(self, settings: Settings, engine: Engine) -> None:
        pass

    def render(self, scope: Scope, op: Operation | None, error: ApiError) -> Response:
        title = HTTPStatus(error.status).phrase + "".join(f"; {e}" for e in error.errors)
        headers = {"Retry-After": str(error.retry_after or 1)} if error.status == 429 else None
        return json_response({"problem": {"status": error.status, "title": title}}, error.status, headers)

    def invalid(self, op: Operation, errors: list[FieldError], where: str) -> ApiError:
        return ApiError(400, errors=tuple(errors))
