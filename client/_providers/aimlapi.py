"""The AI/ML API's paths, bodies, status words and parsing (`openapi/aimlapi.yaml`).

Client layer: provider vocabulary lives here; no I/O.
"""

from __future__ import annotations

from typing import Any

from client._images import image_url
from client._plans import HttpRequest
from client.types import Status, VideoRequest, VideoTask

NAME = "aimlapi"
DEFAULT_BASE_URL = "https://api.aimlapi.com"
ENV_KEY, ENV_BASE = "AIML_API_KEY", "AIML_API_BASE"
MODEL = "klingai/video-o1-image-to-video"
PATH = "/v2/video/generations"
# Documented words, plus older and sibling ones seen in the docs (treated as unfinished).
STATUSES = {
    "queued": Status.QUEUED,
    "waiting": Status.QUEUED,
    "generating": Status.RUNNING,
    "active": Status.RUNNING,
    "processing": Status.RUNNING,
    "completed": Status.SUCCEEDED,
    "error": Status.FAILED,
    "failed": Status.FAILED,
}


def normalise_base_url(base_url: str) -> str:
    """The SDK's AIML_API_BASE often ends in /v1 (OpenAI style); video paths start at /v2."""
    base = base_url.rstrip("/")
    for suffix in ("/v1", "/v2"):
        base = base.removesuffix(suffix)
    return base


class AimlapiApi:
    name = NAME
    default_base_url, env_key, env_base = DEFAULT_BASE_URL, ENV_KEY, ENV_BASE
    accepts_data_uri = True  # "a direct link or a Base64-encoded local image"

    def base_url(self, base_url: str) -> str:
        return normalise_base_url(base_url)

    def create_request(self, request: VideoRequest) -> HttpRequest:
        if request.aspect_ratio not in (None, "16:9"):
            raise ValueError("the AI/ML API takes no aspect ratio (its videos are 16:9)")
        if request.callback_url is not None:
            raise ValueError("the AI/ML API has no callback_url")
        body: dict[str, Any] = {
            "model": MODEL,
            "prompt": request.prompt,
            "image_url": image_url(request.image, accepts_data_uri=self.accepts_data_uri, provider=NAME),
            "duration": request.duration,
        }
        if request.last_image is not None:
            body["last_image_url"] = image_url(
                request.last_image, accepts_data_uri=self.accepts_data_uri, provider=NAME
            )
        return HttpRequest("POST", PATH, json=body, creates=True)

    def get_request(self, task_id: str) -> HttpRequest:
        return HttpRequest("GET", PATH, params={"generation_id": task_id})

    def parse_task(self, body: Any) -> VideoTask:
        word = str(body["status"])
        video = body.get("video") or {}
        error = body.get("error") or {}
        usage = (body.get("meta") or {}).get("usage") or {}
        duration = video.get("duration") or body.get("duration")
        return VideoTask(
            id=str(body["id"]),
            provider=NAME,
            status=STATUSES.get(word, Status.RUNNING),
            provider_status=word,
            video_url=video.get("url"),
            error_code=error.get("name"),
            error_message=error.get("message"),
            credits=usage.get("credits_used"),
            duration=int(duration) if isinstance(duration, int | float) else None,
            raw=body,
        )
