"""The fake in-process as every route sees it: its app on one event loop thread shared by all
the fixtures of a process (started once, not per test), answering a request as an `Answer`
(httpx's route) or serving a connection on a socket pair (the routes of libraries that speak
HTTP themselves).

Contracts layer.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from contracts.routing.exchange import Answer, Request, exchange
from contracts.routing.wire import WireServer
from mockserver.transport import LoopThread

T = TypeVar("T")
SHARED_LOOP = LoopThread("video-mock-in-process")  # one per process, a daemon thread


class InProcess:
    """One fake app reached in-process; `close()` ends its connections (the loop goes on)."""

    def __init__(self, app: Any, loop: LoopThread = SHARED_LOOP) -> None:
        self.app, self.loop = app, loop
        self._servers: set[WireServer] = set()

    def call(self, function: Callable[..., Awaitable[T]], *args: Any, timeout: float | None = None) -> T:
        """Run `function(*args)` on the app's loop and wait for its result."""
        return self.loop.call(function, *args, timeout=timeout)

    def answer(self, request: Request, timeout: float | None = None) -> Answer:
        """`request`'s answer, waited for from any thread but the loop's own (TimeoutError past
        `timeout`: the request goes on in the fake, as on a server whose client gave up)."""
        return self.loop.call(exchange, self.app, request, timeout=timeout)

    async def answer_async(self, request: Request, timeout: float | None = None) -> Answer:
        """The same from a coroutine on any loop, the app's own included (a callback handler
        in the test's app calling the provider back)."""
        if self.loop.owns_caller():
            return await asyncio.wait_for(exchange(self.app, request), timeout)
        future = asyncio.wrap_future(self.loop.submit(exchange, self.app, request))
        return await asyncio.wait_for(asyncio.shield(future), timeout)

    def connect(self, scheme: str, host: str, port: int) -> socket.socket:
        """A connection to the fake as if to `scheme://host:port`: the client's end of a socket
        pair (blocking), whose other end the fake serves until either side closes it."""
        client, server = socket.socketpair()
        try:
            self.loop.call(self._serve, server, (scheme, host, port), client)
        except BaseException:
            client.close()
            server.close()
            raise
        return client

    async def connect_async(self, scheme: str, host: str, port: int) -> socket.socket:
        """`connect` from a coroutine on any loop (non-blocking, for asyncio's transports)."""
        client, server = socket.socketpair()
        try:
            if self.loop.owns_caller():
                await self._serve(server, (scheme, host, port), client)
            else:
                await asyncio.wrap_future(self.loop.submit(self._serve, server, (scheme, host, port), client))
        except BaseException:
            client.close()
            server.close()
            raise
        client.setblocking(False)
        return client

    async def _serve(self, sock: socket.socket, target: tuple[str, str, int], peer: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        await loop.connect_accepted_socket(lambda: self._opened(target, peer), sock=sock)

    def _opened(self, target: tuple[str, str, int], peer: socket.socket) -> WireServer:
        server = WireServer(self.app, target, peer, self._servers.discard)
        self._servers.add(server)
        return server

    def close(self) -> None:
        """End every connection still open to this app (a pooled one is found closed next time)."""

        async def close_all() -> None:
            for server in list(self._servers):
                server.close()

        if self._servers:
            self.loop.call(close_all)
