"""One request through the fake's ASGI app in-process, and what came back: a whole answer, or
the connection dropped as a fault says (reset, lost, or truncated after part of the answer).

Contracts layer, under every in-process route: imports the fake's web layer for the drop it
signals (`ConnectionDropped`), no HTTP client library.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from mockserver.engine.faults import Cut
from mockserver.web.faults import ConnectionDropped

Headers = list[tuple[bytes, bytes]]
CLIENT = ("127.0.0.1", 123)  # httpx.ASGITransport's: the journal sees the same either way


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    scheme: str
    host: str
    port: int | None
    target: bytes  # the raw path and query, as sent
    headers: Headers
    body: bytes


@dataclass(slots=True)
class Answer:
    status: int = 0
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    cut: Cut | None = None  # the connection closed as this fault kind says; `body` is what came first

    @property
    def started(self) -> bool:
        return self.status != 0


def scope_of(request: Request) -> dict[str, Any]:
    """The ASGI scope httpx.ASGITransport makes for the same request."""
    raw_path, _, query = request.target.partition(b"?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": request.method,
        "headers": [(name.lower(), value) for name, value in request.headers],
        "scheme": request.scheme,
        "path": unquote(raw_path.decode("ascii", "replace")),
        "raw_path": raw_path,
        "query_string": query,
        "server": (request.host, request.port),
        "client": CLIENT,
        "root_path": "",
    }


async def exchange(app: Any, request: Request) -> Answer:
    """Run `request` through `app`; app errors other than a dropped connection propagate."""
    answer = Answer()
    done = asyncio.Event()
    delivered = False
    parts: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": request.body, "more_body": False}
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.status, answer.headers = message["status"], list(message.get("headers", []))
        elif message["type"] == "http.response.body":
            parts.append(message.get("body", b""))
            if not message.get("more_body", False):
                done.set()

    try:
        await app(scope_of(request), receive, send)
    except ConnectionDropped as dropped:
        answer.cut = dropped.fault.cut
    finally:
        done.set()
    answer.body = b"".join(parts) if request.method != "HEAD" else b""
    return answer
