"""In-process httpx transports for the fake: an async one (httpx.ASGITransport's) and a sync one
that runs the app on an event loop in a background thread (an anyio blocking portal), so sync
code such as `httpx.Client` or the reference client's sync clients reach the fake with no socket.

Both turn a connection fault (`web/faults.py`: there is no connection to drop in-process) into
the error httpx raises when a server drops one: a reset is a `ReadError` (connection reset by
peer), a lost or truncated answer a `RemoteProtocolError`.

App layer helper; the only state is the portal, closed by `close()`.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import anyio.from_thread
import httpx
from anyio.from_thread import BlockingPortal

from mockserver.engine.faults import RESET
from mockserver.web.faults import ConnectionDropped


def dropped(error: ConnectionDropped, request: httpx.Request) -> httpx.TransportError:
    """What httpx raises when a real server drops the connection so."""
    if error.fault.drop == RESET:
        return httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
    if error.partial:
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body", request=request
        )
    return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


class AsyncASGITransport(httpx.ASGITransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except ConnectionDropped as error:
            raise dropped(error, request) from None


class SyncASGITransport(httpx.BaseTransport):
    def __init__(self, app: Any) -> None:
        self._inner = AsyncASGITransport(app=app)
        self._portal_cm: AbstractContextManager[BlockingPortal] = anyio.from_thread.start_blocking_portal()
        self.portal = self._portal_cm.__enter__()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        content = request.read()

        async def call() -> tuple[int, list[tuple[bytes, bytes]], bytes]:
            inner_request = httpx.Request(
                request.method, request.url, headers=request.headers, content=content
            )
            response = await self._inner.handle_async_request(inner_request)
            body = await response.aread()
            return response.status_code, response.headers.raw, body

        try:
            status, headers, body = self.portal.call(call)
        except httpx.TransportError as error:
            error.request = request  # the caller's request, not the inner copy
            raise
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        if self._portal_cm is not None:
            self._portal_cm.__exit__(None, None, None)
            self._portal_cm = None  # type: ignore[assignment]
