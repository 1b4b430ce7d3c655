"""Serving the app on a port with uvicorn: its configuration (the guarded protocol of
`server/wire.py` where the installed uvicorn has what it relies on, else uvicorn's own protocol
with the limits uvicorn offers itself), the listening socket, and the server.

App layer: knows uvicorn; the app itself knows nothing of it.
"""

from __future__ import annotations

import functools
import logging
import resource
import socket
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.importer import import_from_string

from mockserver.server.rehearsal import wire_problem
from mockserver.server.wire import LIMITS_ATTRIBUTE, GuardedHttpProtocol, Limits
from mockserver.settings import Settings
from mockserver.web.faults import ConnectionDropped

__all__ = ["EndsEarly", "Server", "bind", "config", "raise_file_limit"]

logger = logging.getLogger("mockserver.server")
FILE_DESCRIPTOR_MARGIN = 256  # descriptors beyond the connection cap: the listener, callbacks, files
BACKLOG = 2048  # uvicorn's default
FALLBACK_WARNING = (
    "uvicorn %s: %s; serving with uvicorn's own httptools protocol: header_timeout, body_timeout "
    "and max_header_bytes do not apply, max_connections answers 503, connection faults end answers early"
)
# A reset or lost answer on uvicorn's own protocol: a head whose one byte of body never comes.
EARLY_END_HEADERS = [
    (b"content-length", b"1"),
    (b"x-mock-problem", b"connection faults need the guarded protocol (see the start-up warning)"),
]


class EndsEarly:
    """The app on uvicorn's own protocol, which gives it no way to drop a connection: where a
    connection fault would (`web/faults.py` raises `ConnectionDropped` without an `abort`), the
    answer ends early instead, which uvicorn follows with a close. A reset or a lost answer
    sends a head whose body never comes (the client sees a broken answer, as from a drop),
    with `X-Mock-Problem` saying why; a truncated one stops after half its body."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @classmethod
    def around(cls, app: Any, *, factory: bool) -> Any:
        """The app wrapped; an app factory (an import string, for workers) whose apps are."""
        if factory:
            return functools.partial(_built_and_wrapped, app)
        return cls(app)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = False

        async def sending(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except ConnectionDropped:
            if not started:
                await send({"type": "http.response.start", "status": 502, "headers": EARLY_END_HEADERS})


def _built_and_wrapped(factory: str) -> EndsEarly:
    return EndsEarly(import_from_string(factory)())


def raise_file_limit(connections: int) -> None:
    """Let the process open the connections it may accept (the soft limit is often 1024)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connections + FILE_DESCRIPTOR_MARGIN
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def bind(host: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    """A listening socket on host:port (port 0: a free one), as uvicorn would bind it. Bound
    before anything is printed, so a port clash is one error and the banner names the real
    port; listening at once, so connections made as soon as the banner shows wait in the
    backlog while the app starts. Raises OSError."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)  # workers serve it too
    return sock


class Server(uvicorn.Server):
    """uvicorn's server, calling `on_ready` once the app has started and the sockets serve."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            self.on_ready()


def config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for the fake: the guarded protocol and every limit from Settings,
    or, where the installed uvicorn lacks what the guarded protocol relies on (`wire_problem`),
    uvicorn's own httptools protocol with the limits uvicorn offers itself and one warning.

    No proxy-header rewriting (the fake is not behind a proxy) and no `Server: uvicorn` header
    (the real providers do not send one); both also cost time on every request. uvicorn leaves
    the logging configuration alone (`mockserver/logs.py` makes it, or the caller's own)."""
    values: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": GuardedHttpProtocol,
        "log_config": None,
        "log_level": "warning",
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
        "timeout_keep_alive": settings.keepalive_timeout,
        "timeout_graceful_shutdown": settings.shutdown_timeout,
    }
    problem = wire_problem()
    if problem is not None:
        logger.warning(FALLBACK_WARNING, uvicorn.__version__, problem)
        # uvicorn's own cap answers 503 from the cap on (a connection counts itself)
        values.update(http="httptools", limit_concurrency=settings.max_connections + 1)
        app = EndsEarly.around(app, factory=bool(options.get("factory")))
    values.update(options)
    made = uvicorn.Config(app, **values)
    setattr(made, LIMITS_ATTRIBUTE, Limits.of(settings))
    return made
