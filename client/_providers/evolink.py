"""EvoLink's paths, bodies, status words and parsing (`openapi/evolink.yaml`); also its
white-label mirrors (base URL `https://ai.odkkk.com/apiv1`).

Client layer: provider vocabulary lives here; no I/O.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from client._images import image_url
from client._plans import HttpRequest
from client.types import Status, VideoRequest, VideoTask

NAME = "evolink"
DEFAULT_BASE_URL = "https://api.evolink.ai"
ENV_KEY, ENV_BASE = "EVOLINK_API_KEY", "EVOLINK_BASE_URL"
MODEL = "kling-o1-image-to-video"
CREATE_PATH = "/v1/videos/generations"
STATUSES = {
    "pending": Status.QUEUED,
    "processing": Status.RUNNING,
    "completed": Status.SUCCEEDED,
    "failed": Status.FAILED,
    "cancelled": Status.FAILED,
}


class EvolinkApi:
    name = NAME
    default_base_url, env_key, env_base = DEFAULT_BASE_URL, ENV_KEY, ENV_BASE
    accepts_data_uri = False  # "directly downloadable" image URLs only

    def base_url(self, base_url: str) -> str:
        return base_url.rstrip("/")

    def create_request(self, request: VideoRequest) -> HttpRequest:
        images = [image_url(request.image, accepts_data_uri=self.accepts_data_uri, provider=NAME)]
        if request.last_image is not None:
            images.append(
                image_url(request.last_image, accepts_data_uri=self.accepts_data_uri, provider=NAME)
            )
        body: dict[str, Any] = {
            "model": MODEL,
            "prompt": request.prompt,
            "image_urls": images,
            "duration": request.duration,
        }
        if request.aspect_ratio is not None:
            body["aspect_ratio"] = request.aspect_ratio
        if request.callback_url is not None:
            body["callback_url"] = request.callback_url
        return HttpRequest("POST", CREATE_PATH, json=body, creates=True)

    def get_request(self, task_id: str) -> HttpRequest:
        return HttpRequest("GET", f"/v1/tasks/{quote(task_id, safe='')}")

    def parse_task(self, body: Any) -> VideoTask:
        word = str(body["status"])
        info = body.get("task_info") or {}
        error = body.get("error") or {}
        results = body.get("results") or []
        usage = body.get("usage") or {}
        code = error.get("code")
        return VideoTask(
            id=str(body["id"]),
            provider=NAME,
            status=STATUSES.get(word, Status.RUNNING),
            provider_status=word,
            progress=body.get("progress"),
            eta_seconds=info.get("estimated_time"),
            video_url=results[0] if results else None,
            error_code=None if code is None else str(code),
            error_message=error.get("message"),
            created_at=body.get("created"),
            duration=info.get("video_duration"),
            credits=usage.get("credits_reserved"),
            raw=body,
        )


def parse_callback(body: bytes | str | dict[str, Any]) -> VideoTask:
    """A callback body (the task-query body: EvoLink posts it as it is) as a VideoTask."""
    document = json.loads(body) if isinstance(body, bytes | str) else body
    return EvolinkApi().parse_task(document)
