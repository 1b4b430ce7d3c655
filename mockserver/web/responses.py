"""JSON answers with their headers written directly, and small helpers for what answers carry.

Web layer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from starlette.responses import Response


class JSONBytes(Response):
    """A JSON response with its two headers written directly: Starlette's general header
    setup is measurable on the poll path (bench/README.md)."""

    media_type = "application/json"

    def __init__(self, content: bytes, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        self.status_code, self.body, self.background = status_code, content, None
        self.raw_headers = [
            (b"content-length", str(len(content)).encode()),
            (b"content-type", b"application/json"),
        ]
        if headers:
            self.raw_headers += [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    # orjson: compact UTF-8 JSON, several times faster than the stdlib on the hot poll path.
    return JSONBytes(orjson.dumps(body), status, headers)


def retry_headers(status: int, retry_after: int | None) -> dict[str, str] | None:
    """A 429 always says when to retry (1 s unless told); another status (a rule's 503) when told."""
    if retry_after is None and status != 429:
        return None
    return {"Retry-After": str(retry_after if retry_after is not None else 1)}


def retry_after_of(response: Response | None) -> int | None:
    """The Retry-After seconds an answer carries (for the journal), if any: only errors (a 429,
    a rule's 503) carry one here."""
    if response is None or response.status_code < 400:
        return None
    for name, value in response.raw_headers:
        if name == b"retry-after":
            return int(value) if value.isdigit() else None
    return None


def iso_millis(unix: float) -> str:
    moment = dt.datetime.fromtimestamp(unix, dt.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
