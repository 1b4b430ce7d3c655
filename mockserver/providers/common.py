"""Small helpers both wire adapters share.

Provider layer.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from starlette.responses import Response

from mockserver.engine import Task


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status, headers=headers, media_type="application/json")


def retry_headers(status: int, retry_after: int | None) -> dict[str, str] | None:
    return {"Retry-After": str(retry_after if retry_after is not None else 1)} if status == 429 else None


def iso_millis(unix: float) -> str:
    moment = dt.datetime.fromtimestamp(unix, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def media_url(base_url: str, task: Task) -> str:
    return f"{base_url.rstrip('/')}/files/{task.media_token}.mp4"
