"""One subscriber's Server-Sent Events stream (`GET /__mock/events`): its queued events written
as they come, several to a write, a `: ping` comment when nothing has come for a while, until the
client goes or the hub cuts the subscriber off. A cut-off stream ends; if its connection will not
take the end (its reader stopped reading), the hub resets it after a grace.

Events layer, at the web edge: a plain ASGI response (the server's `abort` from the scope, and
`ON_STOP` in it for the server: a stop ends the stream at once).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.events.hub import Hub
from mockserver.events.subscriber import Numbered, Subscriber
from mockserver.web.asgi import ON_STOP
from mockserver.web.faults import ABORT

MEDIA_TYPE = "text/event-stream"
RETRY_MS = 2000  # how soon a browser's EventSource comes back after the stream ends
# Real seconds a stream waits, once woken, for more events to join the write (unless half its
# queue fills first): a handful of writes a second instead of one per event (each a system
# call, on the loop that answers the provider requests); a person watching does not see 50 ms.
LINGER = 0.05
HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-store"),
    (b"x-accel-buffering", b"no"),  # a proxy in front (nginx) must not hold the events back
]
Render = Callable[[Numbered], bytes]


def comment(text: str) -> bytes:
    return b"".join(b": " + line.encode() + b"\n" for line in text.splitlines()) + b"\n"


class EventStream(Response):
    media_type = MEDIA_TYPE

    def __init__(
        self, hub: Hub, subscriber: Subscriber, render: Render, opening: bytes, ping_seconds: float
    ) -> None:
        self.hub, self.subscriber, self.message = hub, subscriber, render
        self.opening, self.ping_seconds = opening, ping_seconds
        self.status_code = 200
        self.background = None
        self.raw_headers = list(HEADERS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subscriber = self.subscriber
        state = scope.get("state", {})
        abort = state.get(ABORT)
        if abort is not None:
            subscriber.abort = lambda: abort(True)
        state[ON_STOP] = subscriber.close
        watcher = asyncio.ensure_future(_watch(receive, subscriber))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._body(send, b"retry: %d\n" % RETRY_MS + self.opening)
            await self._write(send)
            if not watcher.done():  # cut off, or the app stops: the stream ends in order
                await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            watcher.cancel()
            self.hub.unsubscribe(subscriber)

    async def _write(self, send: Send) -> None:
        subscriber, loop = self.subscriber, asyncio.get_running_loop()
        while not subscriber.closed:
            if not subscriber.queue:
                ping = loop.call_later(self.ping_seconds, subscriber.wake.set)
                await subscriber.wake.wait()
                ping.cancel()
                if not subscriber.hurry.is_set():  # more may come: write them together
                    linger = loop.call_later(LINGER, subscriber.hurry.set)
                    await subscriber.hurry.wait()
                    linger.cancel()
            if subscriber.closed:
                return
            taken = subscriber.take()
            await self._body(send, b"".join(map(self.message, taken)) if taken else b": ping\n\n")

    @staticmethod
    async def _body(send: Send, chunk: bytes) -> None:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _watch(receive: Receive, subscriber: Subscriber) -> None:
    """The client went: the stream stops."""
    with contextlib.suppress(Exception):
        while (await receive())["type"] != "http.disconnect":
            pass
    subscriber.close()
