"""Purpose-broken variants of the fake, each wrong in one controlled way, as app factories for
`CONTRACTS_APP`; each runs in its own process, so patching module globals is contained."""

from __future__ import annotations

from typing import Any

from mockserver import Settings, create_app
from mockserver.engine import TaskStatus
from mockserver.providers.evolink import wire
from mockserver.routing import Pipeline

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
    prepare = Pipeline._prepare

    async def lenient(self: Pipeline, request: Any, op: Any) -> Any:
        validator, op.__dict__["body_validator"] = op.body_validator, None  # skip body validation
        try:
            call = await prepare(self, request, op)
        finally:
            op.__dict__["body_validator"] = validator
        call.body = call.body if isinstance(call.body, dict) else {}
        call.body.setdefault("model", "kling-o1-image-to-video")
        return call

    Pipeline._prepare = lenient  # type: ignore[method-assign]
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
    app = create_app(SETTINGS)
    evolink = app.state.mock.wires["evolink"]
    respond = evolink.error_response

    def without_type(request: Any, op: Any, error: Any) -> Any:
        response = respond(request, op, error)
        response.body = response.body.replace(b'"type":', b'"kind":')
        response.headers["content-length"] = str(len(response.body))
        return response

    evolink.error_response = without_type
    return app
