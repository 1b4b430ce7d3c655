"""Everything that is the AI/ML API's own: status words, ids, bodies and the error envelope.

Provider layer: the only module that knows aimlapi's vocabulary.
"""

from __future__ import annotations

import re
from typing import Any

from starlette.responses import Response

from mockserver.engine import Engine, Failure, Snapshot, Task, TaskStatus
from mockserver.engine.ids import Ids
from mockserver.engine.tasks import Observation
from mockserver.media.catalog import media_url
from mockserver.providers import images
from mockserver.providers.aimlapi import details
from mockserver.providers.images import ImageProblem
from mockserver.settings import Settings
from mockserver.spec import FieldError, Operation, problems
from mockserver.web.errors import ApiError, Scope
from mockserver.web.responses import iso_millis, json_response, retry_headers

SLUG = "aimlapi"
MODEL = "klingai/video-o1-image-to-video"
ASPECT_RATIO = "16:9"  # aimlapi takes no aspect ratio; its docs show a 1920x1080 result
STATUS_WORDS = {
    TaskStatus.QUEUED: "queued",
    TaskStatus.RUNNING: "generating",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "error",
}
_STATUSES = {word: status for status, word in STATUS_WORDS.items()}
CREDITS_PER_USD = 2_000_000  # the gateway's unit: its pages show 3,900,000 credits for $1.95


def price(usd_per_second: float, duration: int) -> int:
    """`credits_used` for a video: the model's price (a setting) in the gateway's unit."""
    return round(usd_per_second * duration * CREDITS_PER_USD)


PRICES = {5: price(0.112, 5), 10: price(0.112, 10)}  # at the default price setting
FAILURE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# Messages for statuses an operation does not list (router level). NestJS words both an
# unknown route and an unsupported method "Cannot <METHOD> <path>"; the fake answers the
# latter 405 (RFC 9110), not NestJS's 404.
BODYLESS = frozenset({"empty", "media_type"})  # the pipeline's words for a request with no JSON body
ROUTER_MESSAGES = {404: "Cannot {method} {path}", 405: "Cannot {method} {path}", 500: "Internal server error"}


def new_generation_id(ids: Ids, number: int, now: float) -> str:
    """`<uuid4>:klingai/video-o1-image-to-video` (contains `:` and `/`)."""
    return f"{ids.uuid4('task', number)}:{MODEL}"


def accepts_failure(code: str) -> bool:
    return FAILURE_NAME.match(code) is not None


def duration_of(body: dict[str, Any]) -> int:
    """5, 10, "5" or "10" (the schema has already refused anything else)."""
    return int(body.get("duration", 5))


def meta(task: Task) -> dict[str, Any]:
    return {"usage": {"credits_used": task.credits}}


def observed(body: Any, offset: float) -> tuple[Observation, Failure | None] | None:
    """What a generation body (a create answer or a retrieve) says, as a recording's observation
    `offset` seconds after the create; None if it is not one. The API shows no progress."""
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return None
    word = body["status"]
    status = _STATUSES.get(word, TaskStatus.RUNNING)  # a word the spec does not name: unfinished
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    failure = None
    if status is TaskStatus.FAILED and error is not None:
        failure = Failure(str(error.get("name") or "GenerationError"), error.get("message"))
    progress = 100 if status is TaskStatus.SUCCEEDED else 0
    usual = STATUS_WORDS.get(status) == word
    return Observation(offset, status, progress, None, None if usual else word), failure


def render_created(task: Task, created: Snapshot) -> dict[str, Any]:
    """The create answer shows the task as created (`Task.as_created`)."""
    return {"id": task.id, "status": created.word or STATUS_WORDS[created.status], "meta": meta(task)}


def render_generation(task: Task, snapshot: Snapshot, base_url: str) -> dict[str, Any]:
    """All five fields; `video` only when completed, `error` only when error."""
    video = (
        {"url": media_url(base_url, task.media_token)} if snapshot.status is TaskStatus.SUCCEEDED else None
    )
    error = None
    if snapshot.failure is not None:
        code = snapshot.failure.code
        error = {"name": code, "message": snapshot.failure.message or f"Generation failed: {code}"}
    return {
        "id": task.id,
        "status": snapshot.word or STATUS_WORDS[snapshot.status],
        "video": video,
        "error": error,
        "meta": meta(task),
    }


# How the generation fails when its run starts, if an image cannot be used: the serving
# backend's error types (its validation errors name the type and the field at fault).
IMAGE_FAILURES = {
    ImageProblem.UNREACHABLE: (
        "file_download_error",
        "Could not download {field}: it must be a public http(s) URL.",
    ),
    ImageProblem.UNDECODABLE: (
        "image_load_error",
        "Could not load {field} as an image: use JPEG, PNG or WebP.",
    ),
    ImageProblem.UNSUPPORTED: (
        "image_load_error",
        "Could not load {field} as an image: use JPEG, PNG or WebP.",
    ),
    ImageProblem.TOO_LARGE: ("file_too_large", "{field} is larger than 10 MB."),
}
IMAGE_FIELDS = ("image_url", "last_image_url")


def image_failure(body: dict[str, Any]) -> Failure | None:
    """The failure a generation meets when its run starts, if an image cannot be used."""
    for field in IMAGE_FIELDS:
        url = body.get(field)
        problem = images.judge(url) if isinstance(url, str) else None
        if problem is not None:
            name, message = IMAGE_FAILURES[problem]
            return Failure(name, message.format(field=field), at_start=True)
    return None


class AimlapiDialect:
    """The gateway's NestJS envelope `{message, path, requestId, statusCode, timestamp}`."""

    foreign_task_status = 404  # undocumented: do not reveal that the id exists

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self._engine = engine

    def render(self, scope: Scope, op: Operation | None, error: ApiError) -> Response:
        status = error.status
        if error.message is not None:
            message = error.message
        elif op is not None and status in op.responses:
            head = str(op.example_body(status)["message"]).split("\n")[0]
            message = head + "".join(f"\n{e.field}: {details.detail(e)}" for e in error.errors)
        else:
            head = ROUTER_MESSAGES.get(status, "Internal server error")
            message = head.format(method=scope["method"], path=scope["path"])
        body = {
            "message": message,
            "path": scope["path"],
            "requestId": self._engine.request_id(),
            "statusCode": status,
            "timestamp": iso_millis(self._engine.now()),
        }
        return json_response(body, status, retry_headers(status, error.retry_after))

    def invalid(self, op: Operation, errors: list[FieldError], where: str) -> ApiError:
        first = errors[0]
        if first.keyword == "json":  # Express's parser refuses it before validation
            return ApiError(400, message=details.json_syntax(first))
        if first.keyword in BODYLESS and op.body_validator is not None:
            # Express parses no body from an empty or non-JSON request: Zod sees `{}`.
            errors = problems(op.body_validator, {}) or errors
        return ApiError(400, errors=tuple(errors))
