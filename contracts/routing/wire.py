"""HTTP/1.1 on one end of a socket pair, served by the fake in-process: the routes of libraries
that speak HTTP themselves (urllib3 and requests, urllib.request, aiohttp) get the other end as
their connection, so their own parsers, timeouts and errors meet real bytes on a real socket
with no address, no lookup and no network.

A dropped connection is dropped for real: a lost answer closes the socket (the client reads the
end of the stream), a truncated one closes it after the head and half the body, and a reset
closes it with a byte unread in its receive queue, which is how a Unix socket makes its peer's
next read fail with ECONNRESET, as a TCP reset does.

Contracts layer: h11 (httpx's own HTTP/1.1 parser) and asyncio; no HTTP client library.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import socket
import weakref
from collections.abc import Callable
from typing import Any

import h11

from contracts.routing.exchange import Answer, Request, exchange

Target = tuple[str, str, int]
logger = logging.getLogger("contracts.routing")  # scheme, host, port the client meant to reach


def reason(status: int) -> bytes:
    try:
        return http.HTTPStatus(status).phrase.encode()
    except ValueError:
        return b""


class WireServer(asyncio.Protocol):
    """One connection: requests parsed by h11, answered one at a time by the app."""

    def __init__(
        self, app: Any, target: Target, peer: socket.socket, closed: Callable[[WireServer], None]
    ) -> None:
        # The client's end, for a reset; weakly, so a client that drops it unclosed is warned as usual.
        self.app, self.target, self.peer, self.closed = app, target, weakref.ref(peer), closed
        self.h11 = h11.Connection(h11.SERVER)
        self.transport: asyncio.Transport | None = None
        self.busy = False
        self.answering: asyncio.Task[None] | None = None  # held: the loop keeps tasks weakly
        self.request: h11.Request | None = None
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed(self)

    def data_received(self, data: bytes) -> None:
        self.h11.receive_data(data)
        self._next()

    def eof_received(self) -> bool:
        """The client is done sending: a request still being answered is answered, then closed."""
        self.h11.receive_data(b"")
        self._next()
        return True

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def _next(self) -> None:
        """Read events until a request is whole (then answer it) or more bytes are needed."""
        while not self.busy and self.transport is not None and not self.transport.is_closing():
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError:
                self.transport.close()
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                return
            if isinstance(event, h11.Request):
                self.request, self.body = event, []
            elif isinstance(event, h11.Data):
                self.body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                self.busy = True
                self.answering = asyncio.get_running_loop().create_task(self._answer())
                return
            elif isinstance(event, h11.ConnectionClosed):
                self.transport.close()
                return

    async def _answer(self) -> None:
        head = self.request
        assert head is not None and self.transport is not None
        scheme, host, port = self.target
        target = bytes(head.target)
        if not target.startswith(b"/"):  # absolute form (through a proxy): keep path and query
            target = b"/" + target.split(b"://", 1)[-1].partition(b"/")[2]
        request = Request(
            head.method.decode(), scheme, host, port, target, list(head.headers), b"".join(self.body)
        )
        try:
            answer = await exchange(self.app, request)
        except Exception:  # as a server does when its app fails: a 500, the error logged
            logger.exception("the fake failed to answer %s %s", request.method, target.decode("latin-1"))
            answer = Answer(500, [(b"content-length", b"0")])
        if self.transport.is_closing():  # the client went away meanwhile
            return
        self._send(answer)

    def _send(self, answer: Answer) -> None:
        assert self.transport is not None
        cut = answer.cut
        if cut is not None and not cut.sends_half:  # nothing was sent: reset, or closed (lost)
            self._drop(reset=cut.reset)
            return
        head = h11.Response(status_code=answer.status, headers=answer.headers, reason=reason(answer.status))
        out = [self.h11.send(head)]
        if cut is not None:  # cut short: the head and what came of the body, then the end
            self.transport.write(b"".join(filter(None, out)) + answer.body)
            self.transport.close()
            return
        if answer.body:
            out.append(self.h11.send(h11.Data(data=answer.body)))
        out.append(self.h11.send(h11.EndOfMessage()))
        self.transport.write(b"".join(filter(None, out)))
        if self.h11.our_state is h11.MUST_CLOSE:
            self.transport.close()
            return
        self.h11.start_next_cycle()
        self.busy = False
        self._next()

    def _drop(self, reset: bool) -> None:
        assert self.transport is not None
        if reset:
            peer = self.peer()
            with contextlib.suppress(OSError):  # a byte unread at close: the peer's next read fails
                if peer is not None:
                    peer.send(b"\0")
            self.transport.abort()
        else:
            self.transport.close()
