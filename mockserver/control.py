"""The control plane under `/__mock/` (openapi/control.yaml) and the result-file route.

App layer: drives the engine for tests; provider words only through `MockState`.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from mockserver.engine import Failure, Task, TaskAlreadyFinished, TaskNotFound
from mockserver.engine.ids import fingerprint
from mockserver.media.catalog import video_path
from mockserver.providers.common import iso_millis, json_response, media_url
from mockserver.routing import ApiError, Call, FieldError
from mockserver.spec import Operation
from mockserver.state import PROVIDERS, MockState

SLUG = "control"
FILES = "files"
ERROR_WORDS = {
    400: "invalid_request",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    500: "internal_error",
}
DEFAULT_FAILURES = {"aimlapi": "GenerationError", "evolink": "service_error"}


class ControlWire:
    """`{"error": {"code", "message"}}` for the control plane and the file route."""

    foreign_task_status = 404

    def __init__(self, slug: str = SLUG) -> None:
        self.slug = slug

    def error_response(self, request: Request, op: Operation | None, error: ApiError) -> Response:
        message = error.message or "; ".join(f"{e.field}: {e.detail}" for e in error.errors)
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
        return ApiError(400, param=errors[0].top, errors=tuple(errors), where=where)

    def failure(self, code: str) -> Failure:
        return Failure(code)


def clock_view(state: MockState) -> dict[str, Any]:
    clock = state.engine.clock
    now = clock.now()
    return {"now": now, "iso": iso_millis(now), "mode": clock.mode, "speed": clock.speed}


def task_view(state: MockState, task: Task, base_url: str) -> dict[str, Any]:
    engine = state.engine
    snapshot = engine.observe(task)
    expires = engine.result_expires_at(task)
    return {
        "id": task.id,
        "provider": task.provider,
        "key": fingerprint(task.owner),
        "status": snapshot.status.value,
        "provider_status": state.provider_status(task),
        "progress": snapshot.progress,
        "estimated_time": snapshot.remaining,
        "created_at": task.created_at,
        "started_at": task.started_at,
        "ends_at": task.ends_at,
        "duration": task.duration,
        "aspect_ratio": task.aspect_ratio,
        "credits": task.credits,
        "error_code": snapshot.failure.code if snapshot.failure else None,
        "result_url": media_url(base_url, task) if expires is not None else None,
        "result_expires_at": expires,
        "callback_url": task.callback_url,
    }


async def reset_mock(call: Call) -> Response:
    call.state.reset()
    return json_response(
        {"clock": clock_view(call.state), "tasks": len(call.engine.tasks()), "seed": call.engine.seed}
    )


async def get_clock(call: Call) -> Response:
    return json_response(clock_view(call.state))


async def advance_clock(call: Call) -> Response:
    await call.engine.advance_settled(float(call.body["seconds"]))
    return json_response(clock_view(call.state))


async def list_tasks(call: Call) -> Response:
    provider = call.params.get("provider")
    tasks = [
        task_view(call.state, t, call.base_url)
        for t in call.engine.tasks()
        if provider is None or t.provider == provider
    ]
    return json_response({"tasks": tasks})


def _task(call: Call) -> Task:
    try:
        return call.engine.find(call.params["task_id"])
    except TaskNotFound:
        raise ApiError(404, message=f"no task {call.params['task_id']!r}") from None


async def get_task(call: Call) -> Response:
    return json_response(task_view(call.state, _task(call), call.base_url))


async def _forced(call: Call, outcome: str) -> Response:
    task = _task(call)
    try:
        if outcome == "cancel":
            call.engine.cancel(task.id)
        elif outcome == "complete":
            call.engine.complete(task.id)
        else:
            body = call.body or {}
            code = body.get("code", DEFAULT_FAILURES[task.provider])
            failure = call.state.wires[task.provider].failure(code)
            call.engine.fail(task.id, Failure(failure.code, body.get("message")))
    except TaskAlreadyFinished:
        raise ApiError(409, message=f"task {task.id!r} has already finished") from None
    return json_response(task_view(call.state, task, call.base_url))


async def cancel_task(call: Call) -> Response:
    return await _forced(call, "cancel")


async def complete_task(call: Call) -> Response:
    return await _forced(call, "complete")


async def fail_task(call: Call) -> Response:
    return await _forced(call, "fail")


def _rule_view(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.id,
        "operation": rule.operation,
        "status": rule.status,
        "remaining": rule.remaining,
        "key": fingerprint(rule.key),
        "retry_after": rule.retry_after,
    }


async def list_faults(call: Call) -> Response:
    return json_response({"faults": [_rule_view(r) for r in call.engine.faults.rules()]})


async def add_fault(call: Call) -> Response:
    body = call.body
    op = next(
        call.state.specs[p].operations[body["operation"]]
        for p in PROVIDERS
        if body["operation"] in call.state.specs[p].operations
    )
    if body["status"] not in op.responses:
        documented = ", ".join(str(s) for s in sorted(op.responses) if s >= 400)
        raise ApiError(
            400,
            param="status",
            errors=(FieldError("status", f"{op.id} documents {documented}, not {body['status']}"),),
        )
    rule = call.engine.faults.add(
        body["operation"], body["status"], body.get("count", 1), body.get("key"), body.get("retry_after")
    )
    return json_response(_rule_view(rule), 201)


async def clear_faults(call: Call) -> Response:
    call.engine.faults.clear()
    return json_response({"faults": []})


async def list_requests(call: Call) -> Response:
    entries = call.engine.journal.entries(
        provider=call.params.get("provider"), operation=call.params.get("operation")
    )
    return json_response({"requests": [e.to_dict() for e in entries]})


async def list_callbacks(call: Call) -> Response:
    return json_response({"callbacks": call.state.deliveries()})


async def redeliver_callback(call: Call) -> Response:
    delivery = call.state.redeliver(call.params["delivery_id"])
    if delivery is None:
        raise ApiError(404, message=f"no delivery {call.params['delivery_id']!r}")
    return json_response(delivery, 202)


async def get_spec(call: Call) -> Response:
    return Response(call.state.specs[call.params["name"]].as_json(), media_type="application/json")


async def get_result_video(call: Call) -> Response:
    """D14: the MP4 for the task's duration and aspect ratio, until 24 h after completion."""
    task = call.engine.media_task(call.params["token"])
    if task is None:
        raise ApiError(404, message="file not found or expired")
    return FileResponse(
        video_path(task.duration, task.aspect_ratio),
        media_type="video/mp4",
        headers={"Cache-Control": "private, max-age=86400"},
    )


HANDLERS = {
    "reset_mock": reset_mock,
    "get_clock": get_clock,
    "advance_clock": advance_clock,
    "list_tasks": list_tasks,
    "get_task": get_task,
    "cancel_task": cancel_task,
    "complete_task": complete_task,
    "fail_task": fail_task,
    "list_faults": list_faults,
    "add_fault": add_fault,
    "clear_faults": clear_faults,
    "list_requests": list_requests,
    "list_callbacks": list_callbacks,
    "redeliver_callback": redeliver_callback,
    "get_spec": get_spec,
    "get_result_video": get_result_video,
}
