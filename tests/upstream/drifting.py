"""A deliberately drifting EvoLink-style upstream, on loopback: each task follows the script its
prompt names (`[drift:NAME]`), one step per task query, and drifts from the spec or from the
fake's lifecycle in one way: a new status word, a dropped required field, a field of another
type, an undocumented status, an error body outside the envelope, a text answer, a lifecycle
out of order, progress going down, a field the spec does not name, a callback that differs from
the task query's body, a callback before the query shows the end. `plain` drifts in none of
these. It counts the creates it gets (`GET /count`)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

MODEL = "kling-o1-image-to-video"
SCRIPT = re.compile(r"\[drift:(\w+)\]")
Step = tuple[int, Any, bool]  # (status, body or text, send the callback after this answer)


def task_body(task_id: str, created: int, status: str, progress: Any, **changes: Any) -> dict[str, Any]:
    """A task-query body as the spec has it (`changes` may drop a field with None)."""
    body: dict[str, Any] = {
        "created": created,
        "id": task_id,
        "model": MODEL,
        "object": "video.generation.task",
        "progress": progress,
        "status": status,
        "task_info": {"can_cancel": status == "pending", "video_duration": 5},
        "type": "video",
        "usage": {"billing_rule": "per_call", "credits_reserved": 7, "user_group": "default"},
    }
    if status in ("pending", "processing"):
        body["task_info"]["estimated_time"] = 30
    if status in ("completed", "succeeded"):
        body["results"] = ["https://cdn.example.com/v/result.mp4?X-Amz-Signature=signedsecret"]
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def _script(name: str, task: Callable[..., dict[str, Any]]) -> list[Step]:
    done = task("completed", 100)
    envelope = {"error": {"code": 418, "message": "I'm a teapot", "type": "teapot_error"}}
    scripts: dict[str, list[Step]] = {
        "plain": [
            (200, task("processing", 30), False),
            (200, task("processing", 60), False),
            (200, done, True),
        ],
        "new_word": [(200, task("processing", 50), False), (200, task("succeeded", 100), False)],
        "missing_field": [(200, task("processing", 50, object=None), False), (200, done, False)],
        "wrong_type": [(200, task("processing", "50%"), False), (200, done, False)],
        "undocumented_status": [(418, envelope, False), (200, done, False)],
        "bad_envelope": [(500, {"detail": "boom"}, False), (200, done, False)],
        "text_error": [(503, "upstream down", False), (200, done, False)],
        "reorder": [
            (200, task("processing", 40), False),
            (200, task("pending", 0), False),
            (200, done, False),
        ],
        "progress_down": [
            (200, task("processing", 60), False),
            (200, task("processing", 30), False),
            (200, done, False),
        ],
        "unnamed_field": [(200, task("processing", 50, eta_ms=5000), False), (200, done, False)],
        "callback_differs": [(200, task("processing", 50), False), (200, done, True)],
        "callback_early": [
            (200, task("processing", 50), True),
            (200, task("processing", 80), False),
            (200, done, False),
        ],
    }
    return scripts[name]


@dataclass
class Drifting:
    creates: int = 0
    tasks: dict[str, tuple[list[Step], str | None, str]] = field(default_factory=dict)  # id -> script

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v1/videos/generations", self.create, methods=["POST"]),
                Route("/v1/tasks/{task_id}", self.query, methods=["GET"]),
                Route("/count", self.count, methods=["GET"]),
            ]
        )

    async def create(self, request: Request) -> Response:
        self.creates += 1
        body = await request.json()
        found = SCRIPT.search(str(body.get("prompt", "")))
        name = found.group(1) if found else "plain"
        created = int(time.time())
        task_id = f"task-unified-{created}-{self.creates:08d}"

        def task(status: str, progress: Any, **changes: Any) -> dict[str, Any]:
            return task_body(task_id, created, status, progress, **changes)

        self.tasks[task_id] = (_script(name, task), body.get("callback_url"), name)
        created_body = task("pending", 0)
        return JSONResponse(created_body)

    async def query(self, request: Request) -> Response:
        task_id = request.path_params["task_id"]
        if task_id not in self.tasks:
            return JSONResponse({"error": {"code": 404, "message": "not found", "type": "not_found"}}, 404)
        steps, callback_url, name = self.tasks[task_id]
        if len(steps) > 1:
            status, body, calls_back = steps.pop(0)
        else:  # the last answer repeats; its callback was sent once
            status, body, calls_back = steps[0]
            steps[0] = (status, body, False)
        if calls_back and callback_url:  # sent before this answer goes
            sent = dict(steps[-1][1]) if name == "callback_early" else dict(body)
            if name == "callback_differs":
                sent["usage"] = {**sent["usage"], "credits_reserved": 14}
            await _call_back(callback_url, sent)
        if isinstance(body, str):
            return PlainTextResponse(body, status)
        return JSONResponse(body, status)

    async def count(self, request: Request) -> Response:
        return JSONResponse({"creates": self.creates})


async def _call_back(url: str, body: dict[str, Any]) -> None:
    async with httpx.AsyncClient(trust_env=False) as client:
        await client.post(url, json=body, timeout=10)
