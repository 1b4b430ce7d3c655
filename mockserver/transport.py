"""In-process httpx transports for the fake: an async one (httpx.ASGITransport's) and a sync one
that runs the app on an event loop in a background (daemon) thread (`LoopThread`, which the
pytest plugin shares between its fixtures), so sync code such as `httpx.Client` or the
reference client's sync clients reach the fake with no socket.

Both turn a connection fault (`web/faults.py`: there is no connection to drop in-process) into
the error httpx raises when a server drops one: a reset is a `ReadError` (connection reset by
peer), a lost or truncated answer a `RemoteProtocolError`.

App layer helper; the only state is a loop thread, stopped by `close()`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from mockserver.web.faults import ConnectionDropped

T = TypeVar("T")


def dropped(error: ConnectionDropped, request: httpx.Request) -> httpx.TransportError:
    """What httpx raises when a real server drops the connection so."""
    if error.reset:
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


class LoopThread:
    """An event loop in a daemon thread, started at the first call and stopped by `close()`
    (a later call starts another). A daemon thread, not an anyio blocking portal: a portal left
    open (a module-level client nobody closes) is finalised at interpreter exit and waits
    forever for a loop that is gone."""

    def __init__(self, name: str = "video-mock-in-process") -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def call(self, function: Callable[..., Awaitable[T]], *args: Any, timeout: float | None = None) -> T:
        """Run `function(*args)` on the loop and wait (at most `timeout` real seconds, then
        TimeoutError: the call goes on) for its result."""
        return self.submit(function, *args).result(timeout)

    def submit(self, function: Callable[..., Awaitable[T]], *args: Any) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(_await(function, *args), self.running())

    def owns_caller(self) -> bool:
        """The calling code runs on this loop (waiting for it here would wait forever)."""
        loop = self._loop
        return loop is not None and threading.current_thread().name == self.name and _running_is(loop)

    def close(self) -> None:
        with self._lock:
            loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)

    def running(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                self._loop = asyncio.new_event_loop()
                threading.Thread(target=_serve, args=(self._loop,), name=self.name, daemon=True).start()
            return self._loop


class SyncASGITransport(httpx.BaseTransport):
    """Runs the app on its own event loop in a daemon thread, started at the first request."""

    def __init__(self, app: Any) -> None:
        self._inner = AsyncASGITransport(app=app)
        self._thread = LoopThread()

    def call(self, function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Run `function(*args)` on the app's loop and wait for its result."""
        return self._thread.call(function, *args)

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
            status, headers, body = self.call(call)
        except httpx.TransportError as error:
            error.request = request  # the caller's request, not the inner copy
            raise
        return httpx.Response(status, headers=headers, content=body, request=request)

    def close(self) -> None:
        self._thread.close()


async def _await(function: Callable[..., Awaitable[T]], *args: Any) -> T:
    return await function(*args)


def _running_is(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _serve(loop: asyncio.AbstractEventLoop) -> None:
    """The loop thread: run until `close()`, then cancel what is left and close the loop."""
    asyncio.set_event_loop(loop)
    loop.run_forever()
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.close()
