"""A lean HTTP/1.1 client for callback attempts on the real network: one POST per exchange on
an asyncio connection to an address already checked by the guard (the receiver's name kept for
Host and for TLS: SNI and the certificate check), the answer parsed by httptools and read up to
a cap, redirects never followed, connections kept per receiver for reuse where it allows.

Callbacks layer: standard library, httptools and certifi only. No timeouts of its own: the
fake's clock owns them (`delivery.py` aborts an exchange whose deadline passed).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
import time
from collections.abc import Awaitable, Callable
from typing import NamedTuple, cast

import httptools

# A receiver's answer is read up to this many bytes (then the connection is closed): only
# its status matters, and a receiver streaming megabytes must not cost the fake memory.
ANSWER_CAP = 64 * 1024
# Real seconds an idle connection is kept for reuse: a little under the 5 s after which common
# servers (uvicorn, nginx's default is longer) close theirs, so a request is not written into a
# connection the receiver is closing at that moment.
KEEPALIVE_SECONDS = 4.0


class Answer(NamedTuple):
    status: int
    location: str | None  # a redirect's target, reported and never followed


class WireError(Exception):
    """No answer: the connection could not be made, broke, or carried something not HTTP."""


class Request(NamedTuple):
    tls: bool
    address: str  # the checked address to connect to
    port: int
    host: str  # the receiver's name: TLS server name (SNI) and certificate check
    data: bytes  # the whole request, head and body


def encode_post(target: str, host_header: str, body: bytes, headers: tuple[tuple[str, str], ...]) -> bytes:
    head = [f"POST {target} HTTP/1.1", f"Host: {host_header}"]
    head += [f"{name}: {value}" for name, value in headers]
    head += [f"Content-Length: {len(body)}", "", ""]
    return "\r\n".join(head).encode("latin-1") + body


def tls_context() -> ssl.SSLContext:
    """The trust httpx gave callbacks: $SSL_CERT_FILE or $SSL_CERT_DIR when set, else certifi's
    bundle; certificates and names verified; HTTP/1.1 offered by ALPN. Slow (it reads the
    bundle): made once, off the event loop."""
    if os.environ.get("SSL_CERT_FILE"):
        context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
    elif os.environ.get("SSL_CERT_DIR"):
        context = ssl.create_default_context(capath=os.environ["SSL_CERT_DIR"])
    else:
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
    context.set_alpn_protocols(["http/1.1"])
    return context


class Exchange:
    """One request and its answer: `answer` resolves to an `Answer` or fails with `WireError`;
    `abort()` cancels it and closes its connection (never reused)."""

    __slots__ = ("_connecting", "_connection", "answer", "started")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.answer: asyncio.Future[Answer] = loop.create_future()
        self.started = loop.time()  # when the receiver's time began (connect, or write)
        self._connection: Connection | None = None
        self._connecting: asyncio.Task[None] | None = None

    def abort(self) -> None:
        if self._connecting is not None:
            self._connecting.cancel()
        if self._connection is not None:
            self._connection.close()
        self.answer.cancel()


class Connection(asyncio.Protocol):
    """One connection to one receiver, one exchange at a time."""

    def __init__(self, pool: Wire, origin: Request) -> None:
        self.pool, self.origin = pool, origin
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.exchange: Exchange | None = None
        self.closed = False
        self.idle_since = 0.0
        self._clear()

    def _clear(self) -> None:
        self.status = 0
        self.location: bytes | None = None
        self.read = 0
        self.delimited = False  # the body's end is given (length or chunks), not the close
        self.complete = False
        self.keep_alive = False

    def send(self, exchange: Exchange, data: bytes) -> None:
        assert self.transport is not None
        self.exchange, exchange._connection = exchange, self
        self._clear()
        self.transport.write(data)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    # -- asyncio's side ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses

    def data_received(self, data: bytes) -> None:
        if self.exchange is None:  # nothing asked: a receiver talking out of turn
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(f"not an HTTP/1.1 answer: {error}")
            return
        if self.complete or self.read > ANSWER_CAP:
            self._answered(reusable=self.complete and self.keep_alive)

    def eof_received(self) -> bool | None:
        return None  # close our side too

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.forget(self)
        if self.exchange is None:
            return
        if self.status >= 200 and not self.delimited:  # a body that ends with the connection
            self._answered(reusable=False)
        else:
            why = f": {exc}" if exc else ""
            self._fail(f"the connection closed before the end of the answer{why}")

    # -- httptools' side ---------------------------------------------------------------

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"location":
            self.location = value
        elif lowered == b"content-length" or (
            lowered == b"transfer-encoding" and b"chunked" in value.lower()
        ):
            self.delimited = True

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        if self.status in (204, 304):
            self.delimited = True

    def on_body(self, body: bytes) -> None:
        self.read += len(body)

    def on_message_complete(self) -> None:
        if 100 <= self.status < 200:  # an interim answer (103 Early Hints): the real one follows
            self._clear()
        else:
            self.complete = True
            self.keep_alive = self.parser.should_keep_alive()  # asked later, it says no

    # -- the end of an exchange ---------------------------------------------------------

    def _answered(self, *, reusable: bool) -> None:
        exchange, self.exchange = self.exchange, None
        location = None if self.location is None else self.location.decode("latin-1")
        if exchange is not None and not exchange.answer.done():
            exchange.answer.set_result(Answer(self.status, location))
        if reusable and not self.closed:
            self.pool.release(self)
        else:
            self.close()

    def _fail(self, detail: str) -> None:
        exchange, self.exchange = self.exchange, None
        self.close()
        if exchange is not None and not exchange.answer.done():
            exchange.answer.set_exception(WireError(detail))


class Wire:
    """Exchanges over connections kept per receiver (its checked address, port, name and
    scheme): at most `idle_limit` idle connections in all, the least recently used closed first."""

    def __init__(self, tls: Callable[[], Awaitable[ssl.SSLContext]], idle_limit: int) -> None:
        self._tls, self._idle_limit = tls, idle_limit
        self._idle: dict[Request, list[Connection]] = {}  # by origin (a Request without data)
        self._lru: dict[Connection, None] = {}  # every idle connection, oldest first

    def exchange(self, request: Request) -> Exchange:
        loop = asyncio.get_running_loop()
        exchange = Exchange(loop)
        origin = request._replace(data=b"")
        connection = self._take(origin)
        if connection is not None:
            connection.send(exchange, request.data)
        else:
            exchange._connecting = loop.create_task(self._connect(origin, exchange, request.data))
        return exchange

    async def _connect(self, origin: Request, exchange: Exchange, data: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            context = await self._tls() if origin.tls else None
            _, connection = await loop.create_connection(
                lambda: Connection(self, origin),
                origin.address,  # an IP address: no lookup here, the guard did it
                origin.port,
                ssl=context,
                server_hostname=origin.host if origin.tls else None,
            )
        except Exception as error:  # refused, unreachable, reset, TLS (ssl.SSLError is an OSError)
            if not exchange.answer.done():
                failure = (
                    WireError(f"{type(error).__name__}: {error}") if isinstance(error, OSError) else error
                )
                exchange.answer.set_exception(failure)
            return
        if exchange.answer.done():  # aborted as the connection was made
            connection.close()
        else:
            connection.send(exchange, data)

    def _take(self, origin: Request) -> Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            del self._lru[connection]
            transport = connection.transport
            fresh = now - connection.idle_since < KEEPALIVE_SECONDS
            if fresh and not connection.closed and transport is not None and not transport.is_closing():
                return connection
            connection.close()
        return None

    def release(self, connection: Connection) -> None:
        connection.idle_since = time.monotonic()
        self._idle.setdefault(connection.origin, []).append(connection)
        self._lru[connection] = None
        if len(self._lru) > self._idle_limit:
            oldest = next(iter(self._lru))
            self.forget(oldest)
            oldest.close()

    def forget(self, connection: Connection) -> None:
        """A connection that closed, or is closed here, is kept no more."""
        if connection in self._lru:
            del self._lru[connection]
            idle = self._idle[connection.origin]
            idle.remove(connection)
            if not idle:
                del self._idle[connection.origin]

    def close(self) -> None:
        for connection in list(self._lru):
            self.forget(connection)
            with contextlib.suppress(RuntimeError):  # its loop is already closed
                connection.close()
