"""What the guarded protocol (`server/wire.py`) relies on in uvicorn's private state, checked
once a process before the server starts: where the installed uvicorn differs, the fake serves
with uvicorn's own protocol instead (`server/__init__.py`).

App layer: imports uvicorn and the wire; nothing here runs per request.

Beyond asyncio's Protocol interface and uvicorn's constructor, `GuardedHttpProtocol` relies on
these of uvicorn's httptools protocol (private: they may change in any release):
- `connections` holds every open connection; `transport`, `loop`, `client` as uvicorn sets them;
- `scope` is replaced when a request begins; `cycle` is made when its head is complete, with
  `cycle.scope` that scope, `cycle.more_body` false once its body is whole, and
  `cycle.response_complete`, `cycle.disconnected` as uvicorn's answer goes;
- `app_state` is copied into each request's `scope["state"]` (ASGI's lifespan state);
- `on_response_complete` is called once each answer has been written whole;
- the interim answer is written as `CONTINUE`, apart from the answer's head and body.
`rehearse` runs one connection through a protocol class and says what it found wrong. For speed
only (checked by tests/e2e/test_wire.py, not here): uvicorn writes a head, then each body part,
and its instances stay within CPython's 30 shared dictionary keys with ours in `__slots__`.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Iterable
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from mockserver.server.wire import BODY, CONTINUE, HEAD, GuardedHttpProtocol
from mockserver.web.faults import ABORT

REHEARSAL_STEPS = 200  # loop turns the rehearsal's app gets to answer (it needs a handful)
REHEARSAL_TIMEOUT = 10.0  # real seconds; a rehearsal takes a few milliseconds
# What the wire reads or writes on uvicorn's protocol, on its request cycle, and the hook of
# uvicorn's it extends (called once an answer is written whole).
PROTOCOL_ATTRIBUTES = ("app_state", "client", "connections", "cycle", "loop", "scope", "transport")
CYCLE_ATTRIBUTES = ("disconnected", "more_body", "response_complete", "scope")
PROTOCOL_HOOKS = ("on_response_complete",)
POST = b"POST /check HTTP/1.1\r\nHost: check\r\n"
POST_REST = b"Content-Length: 2\r\nExpect: 100-continue\r\n\r\n"
HEAD_REQUEST = b"HEAD /check HTTP/1.1\r\nHost: check\r\n\r\n"


class Recorder(asyncio.Transport):
    """A transport that keeps what is written, one entry per call."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent.append(bytes(data))

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        self.sent.append(b"".join(list_of_data))

    def close(self) -> None:
        self.closing = True

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


async def _rehearsal_app(scope: Any, receive: Any, send: Any) -> None:
    """Answers `ok` when it read the body `hi` (or none) and found the connection's abort."""
    body = (await receive())["body"] if scope["method"] == "POST" else b"hi"
    found = body == b"hi" and callable(scope["state"].get(ABORT))
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok" if found else b"no"})


async def _until(done: Callable[[], bool]) -> bool:
    for _ in range(REHEARSAL_STEPS):
        if done():
            return True
        await asyncio.sleep(0)
    return done()


def _absent(instance: object, names: tuple[str, ...], whose: str) -> str | None:
    absent = [f"`{name}`" for name in names if not hasattr(instance, name)]
    return f"{whose} has no {', '.join(absent)}" if absent else None


def connection(protocol_class: type[HttpToolsProtocol], out: asyncio.Transport) -> HttpToolsProtocol:
    """A connection of `protocol_class` on the running loop, as uvicorn's server makes one."""
    made = uvicorn.Config(
        _rehearsal_app,
        http=protocol_class,
        lifespan="off",
        log_config=None,
        proxy_headers=False,
        access_log=False,  # the rehearsal's own requests are no one's business in the log
    )
    protocol = protocol_class(config=made, server_state=ServerState(), app_state={})
    protocol.connection_made(out)
    return protocol


async def _uvicorn_problem() -> str | None:
    """What uvicorn's own protocol lacks of the names the wire uses."""
    out = Recorder()
    plain = connection(HttpToolsProtocol, out)
    plain.data_received(HEAD_REQUEST)
    problem = (
        _absent(plain, PROTOCOL_ATTRIBUTES, "its protocol")
        or _absent(plain.cycle, CYCLE_ATTRIBUTES, "its request cycle")
        or _absent(HttpToolsProtocol, PROTOCOL_HOOKS, "its protocol")
    )
    await _until(lambda: bool(out.sent))
    plain.connection_lost(None)
    return problem


async def run_rehearsal(protocol_class: type[GuardedHttpProtocol], out: Recorder) -> str | None:
    """A POST that expects `100 Continue`, then a HEAD, on one connection of `protocol_class`
    writing to `out`, on the running loop; what went wrong, or None."""
    problem = await _uvicorn_problem()
    if problem is not None:
        return problem
    protocol = connection(protocol_class, out)
    assert isinstance(protocol, GuardedHttpProtocol)
    if protocol not in protocol.connections:
        return "an open connection is not in its `connections`"
    protocol.data_received(POST)
    if protocol._deadline is None or protocol._waiting_for != HEAD or protocol._head_scope is None:
        return "a request head that has begun is not seen (its `scope`)"
    protocol.data_received(POST_REST)
    if protocol._waiting_for != BODY:
        return "a head whose body is awaited is not seen (its `cycle`)"
    if not await _until(lambda: bool(out.sent)) or out.sent != [CONTINUE]:
        return f"its interim answer to Expect: 100-continue is not {CONTINUE!r} alone"
    protocol.data_received(b"hi")
    if protocol._deadline is not None:
        return "a request whose body is whole is still awaited (its `cycle.more_body`)"
    if not await _until(lambda: len(out.sent) > 1) or not out.sent[-1].startswith(b"HTTP/1.1 200 "):
        return "an answer does not leave whole (its writes)"
    if not out.sent[-1].endswith(b"\r\n\r\nok"):
        return "a request's state lacks the connection's abort (its `app_state`)"
    protocol.data_received(HEAD_REQUEST)
    if not await _until(lambda: len(out.sent) > 2) or not out.sent[-1].endswith(b"\r\n\r\n"):
        return "an answer without a body is not sent at its end (its `on_response_complete`)"
    protocol.connection_lost(None)
    if protocol in protocol.connections or protocol._timer is not None:
        return "a closed connection is still counted (its `connections`)"
    return None


def rehearse(protocol_class: type[GuardedHttpProtocol]) -> str | None:
    """What is wrong with `protocol_class` on the installed uvicorn, or None: one connection
    (a POST with `Expect: 100-continue`, then a HEAD) on a private loop in a thread of its own,
    so it runs the same whether or not the caller runs a loop. A few milliseconds."""
    found: list[str | None] = []

    def run() -> None:
        try:
            found.append(asyncio.run(run_rehearsal(protocol_class, Recorder())))
        except Exception as error:  # anything the installed uvicorn does differently
            found.append(f"{type(error).__name__}: {error}")

    thread = threading.Thread(target=run, name="mockserver-wire-check", daemon=True)
    thread.start()
    thread.join(REHEARSAL_TIMEOUT)
    return found[0] if found else f"its rehearsal did not finish in {REHEARSAL_TIMEOUT:g} s"


@functools.cache
def wire_problem() -> str | None:
    """Why the guarded protocol cannot serve on the installed uvicorn, or None (asked once a process)."""
    return rehearse(GuardedHttpProtocol)
