"""The wire, fenced: uvicorn's httptools protocol with the limits a shared fake needs against
slow or hostile clients (a deadline for each request head, an idle deadline while a body
arrives, a cap on header bytes, a cap on open connections), connection faults, and answers
written in one system call. The one place that reads and writes uvicorn's private state; what
it relies on is listed and checked at start-up in `server/rehearsal.py`.

App layer: knows uvicorn; the app itself knows nothing of it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.settings import Settings
from mockserver.web.asgi import ON_STOP
from mockserver.web.faults import ABORT

logger = logging.getLogger("mockserver.server")
LIMITS_ATTRIBUTE = "mock_limits"  # where the limits ride on uvicorn's Config (workers get a copy)
HEAD, BODY = "its request head", "its body"  # what a connection closed for lateness awaited
# uvicorn's interim answer to `Expect: 100-continue`, written when the app first reads the body
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


@dataclass(frozen=True)
class Limits:
    header_timeout: float = 10.0  # seconds for a request's line and headers to arrive
    body_timeout: float = 10.0  # longest pause while a request body arrives
    max_header_bytes: int = 64 * 1024
    max_connections: int = 1000

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            settings.header_timeout,
            settings.body_timeout,
            settings.max_header_bytes,
            settings.max_connections,
        )


def _refusal(status: int, reason: str, code: str, message: str) -> bytes:
    """A whole answer written before any request reached the app (so in a neutral envelope)."""
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    )
    return head.encode() + body


class HeldHeadTransport(asyncio.Transport):
    """The connection's transport, holding each response's first write (uvicorn writes the head
    on `http.response.start`) until the next write, the response's end, or a close: a small
    answer leaves in one system call and one TCP segment instead of two. The interim
    `100 Continue` is not a response's head: it leaves at once, since the client waits for it
    before sending the body. An abort drops what is held (a reset sends nothing). Everything
    else is the connection's own transport."""

    __slots__ = ("_held", "_hold_next", "_transport")

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__()
        self._transport = transport
        self._held: bytes | None = None
        self._hold_next = True  # the next write starts a response

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.writelines((held, data))  # one writev
        elif self._hold_next:
            if data == CONTINUE:  # compared by length first: one cheap test per response
                self._transport.write(data)
                return
            self._hold_next = False
            self._held = bytes(data)
        else:
            self._transport.write(data)

    def response_complete(self) -> None:
        """The response has been written whole: send what is held; the next write starts another."""
        held, self._held, self._hold_next = self._held, None, True
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def close(self) -> None:
        self.response_complete()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def write_eof(self) -> None:
        self.response_complete()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()


class GuardedHttpProtocol(HttpToolsProtocol):
    """A connection is closed when a request head takes longer than `header_timeout` (counted
    from the connection's opening for its first request, from a later request's first byte for
    the others), when a body stalls for `body_timeout`, or beyond `max_connections`; a head over
    `max_header_bytes` is answered 431 and the connection closed. Idle keep-alive time is
    uvicorn's own limit.

    Each request's scope carries an `abort` (`web/faults.py`) for connection faults: a reset
    (RST, nothing flushed) or a close after what was sent (a lost or truncated answer).

    Costs on every request are kept to one hook, `data_received`: what the parser awaits next is
    read from uvicorn's state after each chunk (a hook per parser event cost each request four
    frames), and the abort rides in the per-connection `app_state` uvicorn copies into every
    scope's `state` (no hook at the start of each message). `__slots__`: uvicorn's instances
    hold 28 attributes; beyond CPython's 30 shared dictionary keys every attribute access on
    the connection, uvicorn's own included, takes a slower path."""

    __slots__ = (
        "_deadline",
        "_head_bytes",
        "_head_scope",
        "_limits",
        "_out",
        "_timer",
        "_timer_at",
        "_waiting_for",
    )

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._limits: Limits = getattr(config, LIMITS_ATTRIBUTE, Limits())
        # The deadline is a stamp moved as a request progresses; one timer per connection
        # wakes when the earliest stamp could have passed and re-arms itself if it has moved on.
        self._deadline: float | None = None  # loop time, or None when nothing is awaited
        self._waiting_for = ""
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0  # loop time the timer wakes at
        self._head_bytes: int | None = 0  # bytes of the request head so far; None once it is complete
        self._head_scope: Any = None  # the scope of the request whose head was last seen to begin
        self.app_state = {**self.app_state, ABORT: self._abort}

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._out = HeldHeadTransport(transport)
        super().connection_made(self._out)
        if len(self.connections) > self._limits.max_connections:
            logger.warning("closing a connection: %d are open (max_connections)", len(self.connections) - 1)
            transport.close()
            return
        self._arm(self._limits.header_timeout, HEAD)

    def connection_lost(self, exc: Exception | None) -> None:
        self._deadline = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        head = self._head_bytes
        if head is None and (self.cycle is None or self.cycle.response_complete):
            head = 0  # a new request may start in this chunk
        if head is not None:
            head += len(data)
            if head > self._limits.max_header_bytes:
                self._deadline = None
                message = f"the request line and headers exceed {self._limits.max_header_bytes} bytes"
                self.transport.write(
                    _refusal(431, "Request Header Fields Too Large", "headers_too_large", message)
                )
                self.transport.close()
                return
        self._head_bytes = head
        HttpToolsProtocol.data_received(self, data)
        # What the parser awaits now: a new `scope` is made when a request begins, and its
        # cycle when its head is complete; the cycle says whether its body is complete.
        scope, cycle = self.scope, self.cycle
        if cycle is not None and cycle.scope is scope:  # the latest request's head is complete
            self._head_bytes = None
            if cycle.more_body and not cycle.response_complete:  # its body is awaited: idle deadline
                self._arm(self._limits.body_timeout, BODY)
            else:
                self._deadline = None
        elif scope is not self._head_scope and scope is not None:  # a head began and is incomplete
            first = self._head_scope is None  # the first request's deadline runs from the opening
            self._head_scope = scope
            if not first or self._deadline is None:
                self._arm(self._limits.header_timeout, HEAD)

    def shutdown(self) -> None:
        """The server starts stopping: an answer that never ends by itself (an event stream,
        `ON_STOP` in its scope's state) is told to end now rather than cut off after the grace."""
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            ending = cycle.scope.get("state", {}).get(ON_STOP)
            if ending is not None:
                ending()
        HttpToolsProtocol.shutdown(self)

    def on_response_complete(self) -> None:
        self._out.response_complete()
        HttpToolsProtocol.on_response_complete(self)

    def _abort(self, reset: bool) -> None:
        if self.cycle is not None:  # the app returns without an answer, and nothing is logged
            self.cycle.disconnected = True
        if self.transport.is_closing():
            return
        if reset:  # linger 0: the peer gets a RST, as from a crashed server or a middlebox
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.transport.abort()
        else:
            self.transport.close()

    def _arm(self, seconds: float, waiting_for: str) -> None:
        deadline = self.loop.time() + seconds
        self._deadline, self._waiting_for = deadline, waiting_for
        if self._timer is None or self._timer_at > deadline:  # none, or set for a later stamp
            if self._timer is not None:
                self._timer.cancel()
            self._timer, self._timer_at = self.loop.call_later(seconds, self._check), deadline

    def _check(self) -> None:
        self._timer = None
        if self._deadline is None or self.transport.is_closing():
            return
        left = self._deadline - self.loop.time()
        if left > 0:  # the stamp moved on since the timer was set
            self._timer, self._timer_at = self.loop.call_later(left, self._check), self._deadline
            return
        self._deadline = None
        logger.info("closing a connection from %s: %s did not arrive in time", self.client, self._waiting_for)
        self.transport.close()
