"""Purpose-broken variants of the fake, each wrong in one controlled way, as app factories for
`CONTRACTS_APP`; each runs in its own process, so patching module globals is contained."""

from __future__ import annotations

import contextlib
from typing import Any

from mockserver import Settings, create_app
from mockserver.engine import TaskStatus
from mockserver.providers.evolink import wire
from mockserver.web.errors import ApiError
from mockserver.web.pipeline import Call, Endpoint

SETTINGS = Settings(clock="manual", seed=0, keys=("mock-key", "contracts-other-key"))


def wrong_status_word() -> Any:
    wire.STATUS_WORDS[TaskStatus.RUNNING] = "running"  # the spec says "processing"
    return create_app(SETTINGS)


def missing_field() -> Any:
    render = wire.render_task

    def without_object(*args: Any) -> dict[str, Any]:
        body = render(*args)
        body.pop("object")  # required by TaskDetailResponse
        return body

    wire.render_task = without_object
    return create_app(SETTINGS)


def accepts_invalid_body() -> Any:
    read = Endpoint._body

    async def lenient(self: Endpoint, call: Call) -> None:
        with contextlib.suppress(ApiError):  # whatever the spec says, take it
            await read(self, call)
        body = call.body if isinstance(call.body, dict) else {}
        body["model"] = "kling-o1-image-to-video"
        if body.get("duration") not in (5, 10):
            body["duration"] = 5
        if body.get("aspect_ratio") not in ("16:9", "9:16", "1:1"):
            body.pop("aspect_ratio", None)
        body.pop("callback_url", None)
        call.body = body

    Endpoint._body = lenient  # type: ignore[method-assign]
    return create_app(SETTINGS)


def progress_falls() -> Any:
    render = wire.render_task

    def backwards(task: Any, snapshot: Any, base_url: str) -> dict[str, Any]:
        body = render(task, snapshot, base_url)
        if body["status"] == "processing":
            body["progress"] = max(1, 99 - body["progress"])
        return body

    wire.render_task = backwards
    return create_app(SETTINGS)


def wrong_error_envelope() -> Any:
    render = wire.EvolinkDialect.render

    def without_type(self: wire.EvolinkDialect, scope: Any, op: Any, error: Any) -> Any:
        response = render(self, scope, op, error)
        response.body = response.body.replace(b'"type":', b'"kind":')
        response.headers["content-length"] = str(len(response.body))
        return response

    wire.EvolinkDialect.render = without_type  # type: ignore[method-assign]
    return create_app(SETTINGS)
