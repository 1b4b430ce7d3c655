"""Receiving evolink callbacks: parse a body, or run a tiny ASGI app that calls your handler.

    from client.callbacks import CallbackReceiver
    app = CallbackReceiver(lambda task: print(task.status, task.video_url))
    # uvicorn mymodule:app --port 9000

Client layer: a plain ASGI callable, so the client needs no web framework.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Awaitable, Callable
from typing import Any

from client._providers.evolink import parse_callback
from client.types import VideoTask

MAX_BODY = 1024 * 1024
Handler = Callable[[VideoTask], Any | Awaitable[Any]]
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

__all__ = ["CallbackReceiver", "parse_callback"]


class CallbackReceiver:
    """POST a task-query body to any path (or only `path`): the handler gets a VideoTask.

    Answers 200 when the handler returns, 400 for a body that is not a task, 405 for other
    methods; an exception in the handler answers 500 so the provider retries."""

    def __init__(self, handler: Handler, path: str | None = None) -> None:
        self.handler, self.path = handler, path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        if self.path is not None and scope["path"] != self.path:
            await _answer(send, 404, {"error": "not found"})
            return
        if scope["method"] != "POST":
            await _answer(send, 405, {"error": "POST only"})
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                await _answer(send, 413, {"error": "body too large"})
                return
            if not message.get("more_body"):
                break
        try:
            task = parse_callback(bytes(body))
        except (ValueError, KeyError, TypeError) as error:
            await _answer(send, 400, {"error": f"not a task body: {error}"})
            return
        try:
            result = self.handler(task)
            if inspect.isawaitable(result):
                await result
        except Exception as error:
            await _answer(send, 500, {"error": f"handler failed: {type(error).__name__}"})
            return
        await _answer(send, 200, {"ok": True, "id": task.id})


async def _answer(send: Send, status: int, body: dict[str, Any]) -> None:
    content = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
