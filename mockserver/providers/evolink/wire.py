"""Everything that is EvoLink's own: status words, ids, task bodies and error bodies.

Provider layer: the only module that knows evolink's vocabulary.
"""

from __future__ import annotations

import functools
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from mockserver.engine import Engine, Failure, Snapshot, Task, TaskStatus
from mockserver.engine.ids import Ids
from mockserver.engine.tasks import Observation
from mockserver.media.catalog import media_url
from mockserver.providers import images
from mockserver.providers.images import ImageProblem
from mockserver.settings import Settings
from mockserver.spec import FieldError, Operation, read_document
from mockserver.web.errors import ApiError, Scope
from mockserver.web.responses import json_response, retry_headers

SLUG = "evolink"
DEFAULT_ASPECT_RATIO = "16:9"  # not documented; the fake uses 16:9 where nothing is asked
MIRROR_PREFIX = "/apiv1"
PRICES = {5: 7, 10: 14}  # credits_reserved by video duration
STATUS_WORDS = {
    TaskStatus.QUEUED: "pending",
    TaskStatus.RUNNING: "processing",
    TaskStatus.SUCCEEDED: "completed",
    TaskStatus.FAILED: "failed",
}
_STATUSES = {word: status for status, word in STATUS_WORDS.items()}
# The documented business codes, with messages in the style of the error-codes page.
FAILURE_MESSAGES = {
    "content_policy_violation": "Content policy violation.\nYour request was blocked by safety filters.",
    "invalid_parameters": "Invalid parameters.\nPlease check the request parameters.",
    "image_processing_error": "Image processing error.\nThe image could not be processed.",
    "image_dimension_mismatch": "Image dimension mismatch.\nThe first and last frames differ in size.",
    "request_cancelled": "Request cancelled.\nThe task was cancelled before it finished.",
    "generation_failed_no_content": "Generation failed.\nNo content was generated.",
    "service_error": "Service error.\nPlease try again later.",
    "generation_timeout": "Generation timeout.\nPlease try again later.",
    "resource_exhausted": "Resource exhausted.\nPlease try again later.",
    "quota_exceeded": "Quota exceeded.\nPlease wait 1-2 seconds between requests.",
    "service_unavailable": "Service unavailable.\nPlease try again later.",
    "resource_not_found": "Resource not found.\nThe task id is invalid or expired.",
    "unknown_error": "Unknown error.\nPlease try again later.",
}
# Router-level answers (no route): EvoLink's gateway words an unknown route "Invalid URL
# (<METHOD> <path>)", type invalid_request_error, with an empty code (docs/fidelity.md).
ROUTER_MESSAGE = "Invalid URL ({method} {path})"
ROUTER_TYPE = "invalid_request_error"
# Statuses an operation's current style does not document, and the one it answers instead:
# an over-large body is a bad request like any other (the current docs list no 413).
UNDOCUMENTED_AS = {413: 400}
# A testing aid the fake cannot take (X-Mock-Fault, X-Mock-Fail, ...) answers the general bad
# request of each style (the create's documented 400), naming the trigger: the task query's own
# 400 is about its id, which a refused trigger is not about.
TRIGGER_REFUSED: dict[str, dict[str, Any]] = {
    "seed": {"code": 400, "message": "Invalid request parameter", "type": "invalid_request_error"},
    "current": {
        "code": "invalid_request",
        "message": "Invalid request parameters",
        "type": "invalid_request_error",
    },
}
# A "retry after N seconds" suggestion says what the Retry-After header says.
RETRY_SUGGESTION = "retry after "
# With local receivers allowed, the scheme rule moves from the schema to the callback guard.
CALLBACK_PATTERN = "/components/schemas/VideoGenerationRequest/properties/callback_url/pattern"


def variant(settings: Settings) -> tuple[str, ...]:
    """The spec's responses the chosen error style does not have (seed-only ones, for
    `current`): removed from the spec the fake serves, so it never answers them."""
    return seed_only_responses() if settings.evolink_errors == "current" else ()


@functools.cache
def seed_only_responses() -> tuple[str, ...]:
    """JSON pointers of the error responses that have no `current` example."""
    document = read_document(SLUG)
    found = []
    for path, item in document["paths"].items():
        for method, op in item.items():
            for status, response in op.get("responses", {}).items():
                examples = response.get("content", {}).get("application/json", {}).get("examples", {})
                if int(status) >= 400 and "current" not in examples:
                    escaped = path.replace("~", "~0").replace("/", "~1")
                    found.append(f"/paths/{escaped}/{method}/responses/{status}")
    return tuple(found)


def new_task_id(ids: Ids, number: int, now: float) -> str:
    """`task-unified-<10-digit unix seconds>-<8 of [a-z0-9]>`."""
    return f"task-unified-{int(now)}-{ids.token('task', number, 8)}"


def accepts_failure(code: str) -> bool:
    return code in FAILURE_MESSAGES


def usage(task: Task) -> dict[str, Any]:
    return {"billing_rule": "per_call", "credits_reserved": task.credits, "user_group": "default"}


def render_task(task: Task, snapshot: Snapshot, base_url: str) -> dict[str, Any]:
    """The task-query body (also the callback body)."""
    status = snapshot.status
    task_info: dict[str, Any] = {"can_cancel": status is TaskStatus.QUEUED}
    if snapshot.remaining is not None:
        task_info["estimated_time"] = snapshot.remaining
    task_info["video_duration"] = task.duration
    body: dict[str, Any] = {
        "created": int(task.created_at),
        "id": task.id,
        "model": task.model,
        "object": "video.generation.task",
        "progress": snapshot.progress,
    }
    if status is TaskStatus.SUCCEEDED:
        body["results"] = [media_url(base_url, task.media_token)]
    body["status"] = snapshot.word or STATUS_WORDS[status]
    if snapshot.failure is not None:
        body["error"] = {
            "code": snapshot.failure.code,
            "type": "task_error",
            "message": snapshot.failure.message or failure_message(snapshot.failure.code),
        }
    body["task_info"] = task_info
    body["type"] = "video"
    body["usage"] = usage(task)
    return body


def observed(body: Any, offset: float) -> tuple[Observation, Failure | None] | None:
    """What a task body (a create answer, a task query, a callback) says, as a recording's
    observation `offset` seconds after the create; None if it is not a task body."""
    if not isinstance(body, dict) or not isinstance(body.get("status"), str):
        return None
    word = body["status"]
    status = _STATUSES.get(word, TaskStatus.RUNNING)  # a word the spec does not name: unfinished
    progress = body["progress"] if isinstance(body.get("progress"), int) else 0
    info = body["task_info"] if isinstance(body.get("task_info"), dict) else {}
    remaining = info["estimated_time"] if isinstance(info.get("estimated_time"), int) else None
    error = body.get("error") if isinstance(body.get("error"), dict) else None
    failure = None
    if status is TaskStatus.FAILED and error is not None:
        failure = Failure(str(error.get("code") or "unknown_error"), error.get("message"))
    usual = STATUS_WORDS.get(status) == word
    return Observation(offset, status, progress, remaining, None if usual else word), failure


def render_created(task: Task, created: Snapshot) -> dict[str, Any]:
    """The create answer shows the task as created (`Task.as_created`): pending, progress 0."""
    info: dict[str, Any] = {"can_cancel": created.status is TaskStatus.QUEUED}
    if created.remaining is not None:
        info["estimated_time"] = created.remaining
    info["video_duration"] = task.duration
    return {
        "created": int(task.created_at),
        "id": task.id,
        "model": task.model,
        "object": "video.generation.task",
        "progress": created.progress,
        "status": created.word or STATUS_WORDS[created.status],
        "task_info": info,
        "type": "video",
        "usage": usage(task),
    }


# How the worker fails a task whose image it cannot use: the error-codes page's business code,
# and its words for the case (sub-type examples such as "unsupported file type").
IMAGE_FAILURES = {
    ImageProblem.UNREACHABLE: (
        "image_processing_error",
        "Image processing error.\nThe image URL is not accessible: use a public http(s) URL that "
        "downloads the image directly.",
    ),
    ImageProblem.UNDECODABLE: (
        "image_processing_error",
        "Image processing error.\nThe image could not be decoded: use JPG, PNG or WebP.",
    ),
    ImageProblem.UNSUPPORTED: (
        "invalid_parameters",
        "Invalid parameters.\nunsupported file type: use .jpg, .jpeg, .png or .webp.",
    ),
    ImageProblem.TOO_LARGE: ("invalid_parameters", "Invalid parameters.\nfile size exceeds 10MB."),
}


def image_failure(image_urls: Any) -> Failure | None:
    """The failure a task meets when its run starts, if an image cannot be used."""
    for url in image_urls if isinstance(image_urls, list) else ():
        problem = images.judge(url) if isinstance(url, str) else None
        if problem is not None:
            code, message = IMAGE_FAILURES[problem]
            return Failure(code, message, at_start=True)
    return None


def failure_message(code: str) -> str:
    return FAILURE_MESSAGES.get(code, "Task failed.")


class EvolinkDialect:
    """`{"error": {code, message, type, ...}}` in the seed's style (integer codes) or
    EvoLink's current one (string codes)."""

    foreign_task_status = 403

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.style = settings.evolink_errors

    def render(self, scope: Scope, op: Operation | None, error: ApiError) -> Response:
        status = error.status
        if op is not None and status not in op.responses and status in UNDOCUMENTED_AS:
            status = UNDOCUMENTED_AS[status]  # current style: the status its docs dropped
        if error.problem is not None and status == 400:  # a testing aid refused: name it
            body = {"error": {**TRIGGER_REFUSED[self.style], "param": error.param}}
        elif op is not None and status in op.responses:
            body = op.example_body(status, self.style)
        else:
            body = self._router_error(scope, status)
        # The seed style names the field at fault; the current one sends its examples exactly.
        if error.param is not None and self.style == "seed":
            body["error"]["param"] = error.param
        headers = retry_headers(status, error.retry_after)
        suggestion = body["error"].get("fallback_suggestion")
        if headers is not None and isinstance(suggestion, str) and suggestion.startswith(RETRY_SUGGESTION):
            wait = int(headers["Retry-After"])
            body["error"]["fallback_suggestion"] = (
                f"{RETRY_SUGGESTION}{wait} second{'' if wait == 1 else 's'}"
            )
        return json_response(body, status, headers)

    def _router_error(self, scope: Scope, status: int) -> dict[str, Any]:
        if status in (404, 405):
            message, kind = ROUTER_MESSAGE.format(method=scope["method"], path=scope["path"]), ROUTER_TYPE
            word = ""
        else:  # the operation-level 500's type in each style
            message, word = HTTPStatus(status).phrase, "internal_error"
            kind = "internal_server_error" if self.style == "seed" else "api_error"
        code: int | str = status if self.style == "seed" else word
        return {"error": {"code": code, "message": message, "type": kind}}

    def invalid(self, op: Operation, errors: list[FieldError], where: str) -> ApiError:
        first = errors[0]
        # The seed documents an unknown model on create as 404 "Specified model not found".
        if first.top == "model" and first.keyword == "enum" and 404 in op.responses and where == "body":
            return ApiError(404, param="model", errors=tuple(errors))
        return ApiError(400, param=first.top, errors=tuple(errors))
