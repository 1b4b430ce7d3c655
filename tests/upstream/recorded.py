"""Recordings for the replay tests, in the format the proxy writes (docs/upstream.md): HAR 1.2
entries with `_provider`, `_operation`, `_kind`, `_task`. Written here by hand, as a real provider
might have answered: a lifecycle that is not the fake's own (other timings, a new status word).

Test helpers: no test here.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

START = 1_790_000_000.0  # when the recorded create began (Unix seconds)
EVOLINK = "https://api.evolink.ai"
HOOK = "https://myapp.example.com/hook?redacted"  # the recorded create's callback_url
CREATE_BODY = {
    "model": "kling-o1-image-to-video",
    "prompt": "A real cat, recorded",
    "image_urls": ["https://example.com/recorded.jpg"],
    "duration": 5,
    "aspect_ratio": "9:16",
}


def entry(
    offset: float,
    operation: str,
    method: str,
    url: str,
    status: int,
    answer: Any,
    *,
    task: str | None,
    request: Any = None,
    kind: str = "request",
    provider: str = "evolink",
) -> dict[str, Any]:
    started = datetime.fromtimestamp(START + offset, UTC).isoformat()
    body = json.dumps(request) if request is not None else None
    return {
        "startedDateTime": started,
        "time": 120.0,
        "request": {
            "method": method,
            "url": url,
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Authorization", "value": "Bearer sha256:0000"}],
            "queryString": [],
            **({"postData": {"mimeType": "application/json", "text": body}} if body else {}),
            "headersSize": -1,
            "bodySize": len(body or ""),
        },
        "response": {
            "status": status,
            "statusText": "",
            "httpVersion": "HTTP/1.1",
            "headers": [{"name": "Content-Type", "value": "application/json"}],
            "content": {
                "size": len(json.dumps(answer)),
                "mimeType": "application/json",
                "text": json.dumps(answer),
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": len(json.dumps(answer)),
        },
        "cache": {},
        "timings": {"send": 0, "wait": 120, "receive": 0},
        "_provider": provider,
        "_operation": operation,
        "_kind": kind,
        "_task": task,
        "_key": "sha256:0000",
    }


def task_body(task: str, status: str, progress: int, eta: int | None, **more: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"can_cancel": status == "pending", "video_duration": 5}
    if eta is not None:
        info["estimated_time"] = eta
    return {
        "created": int(START),
        "id": task,
        "model": "kling-o1-image-to-video",
        "object": "video.generation.task",
        "progress": progress,
        "status": status,
        "task_info": info,
        "type": "video",
        "usage": {"billing_rule": "per_call", "credits_reserved": 7, "user_group": "default"},
        **more,
    }


def lifecycle(
    task: str = "task-unified-1790000000-realreal", *, fail: str | None = None
) -> list[dict[str, Any]]:
    """Create; polls at 3 s (pending), 10 s (processing 12 %), 40 s (processing 55 %), 95 s (the
    end: completed, or failed with `fail`); a callback at 96 s."""
    poll = f"{EVOLINK}/v1/tasks/{task}"
    end = (
        task_body(
            task,
            "failed",
            70,
            None,
            error={"code": fail, "message": "Recorded failure.", "type": "task_error"},
        )
        if fail
        else task_body(task, "completed", 100, None, results=["https://cdn.example.com/real.mp4?redacted"])
    )
    return [
        entry(0, "createVideoGeneration", "POST", f"{EVOLINK}/v1/videos/generations", 200,
              task_body(task, "pending", 0, 140), task=task, request={**CREATE_BODY, "callback_url": HOOK}),
        entry(3, "getTaskDetail", "GET", poll, 200, task_body(task, "pending", 0, 137), task=task),
        entry(10, "getTaskDetail", "GET", poll, 200, task_body(task, "processing", 12, 60), task=task),
        entry(40, "getTaskDetail", "GET", poll, 200, task_body(task, "processing", 55, 30), task=task),
        entry(95, "getTaskDetail", "GET", poll, 200, end, task=task),
        entry(96, "getTaskDetail", "POST", HOOK, 200, {}, task=task, request=end, kind="callback"),
    ]  # fmt: skip


def har(*entries: dict[str, Any]) -> dict[str, Any]:
    return {
        "log": {
            "version": "1.2",
            "creator": {"name": "videogen-mock", "version": "test"},
            "entries": list(entries),
        }
    }
