"""The guard: while the fake runs in-process, any way out to a provider host that no route
took (a library the plugin does not route, a raw socket, a resolver) fails at once, before a
lookup or a connection, naming the host, the library and what to do instead.

It sits where every Python path to the network passes a host name: `socket.getaddrinfo`
(`socket.create_connection`, asyncio's lookups, every pure-Python client), the older
`gethostbyname*`, and `socket.socket.connect` (a raw socket given a name, which C resolves).

Contracts layer: standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any
from unittest import mock

from contracts.routing.hosts import Hosts

# Frames of these modules are the plumbing between a caller and the network, not the caller.
PLUMBING = (
    *("socket", "ssl", "selectors", "asyncio", "concurrent", "threading", "contextlib", "functools"),
    *("unittest.mock", "contracts.routing", "aiohappyeyeballs"),
)
LIBRARY_ROOTS = tuple(
    str(Path(path).resolve())
    for key in ("stdlib", "platstdlib", "purelib", "platlib")
    if (path := sysconfig.get_path(key))
)
MESSAGE = (
    "video_mock: {host} is a provider's host, and this test runs the fake in-process, but this call "
    "went out through {library}, which video_mock does not route{called_from}. It was stopped before "
    "any lookup or connection. Reach the fake another way: use the `video_mock_server` fixture and "
    "give the client its `.base_url` (or `.urls[NAME]`) as the base URL. A test that means to go "
    "out: @pytest.mark.video_mock(guard=False)."
)


class UnroutedProviderCall(RuntimeError):
    """A call to a provider's host that no in-process route took; nothing was sent."""

    def __init__(self, host: str, library: str, called_from: str | None) -> None:
        where = f" (called from {called_from})" if called_from else ""
        super().__init__(MESSAGE.format(host=host, library=library, called_from=where))
        self.host, self.library = host, library


def _module(frame: FrameType) -> str:
    return str(frame.f_globals.get("__name__", "?"))


def _is_plumbing(module: str) -> bool:
    return any(module == root or module.startswith(root + ".") for root in PLUMBING)


def _in_a_library(frame: FrameType) -> bool:
    path = str(Path(frame.f_code.co_filename).resolve())
    return path.startswith(LIBRARY_ROOTS) or frame.f_code.co_filename.startswith("<")


def _library(module: str) -> str:
    """`urllib3.util.connection` -> `urllib3`; the standard library's `http.client` and
    `urllib.request` keep their second part."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] in ("http", "urllib") else parts[0]


def caller(frame: FrameType | None) -> tuple[str, str | None]:
    """The library that made the call (the first module past the plumbing: `urllib3`,
    `http.client`, or the test's own module for a raw socket) and the first frame outside any
    installed library or the standard library (the user's line)."""
    library = None
    while frame is not None:
        module = _module(frame)
        if not _is_plumbing(module):
            own = not _in_a_library(frame)
            if library is None:
                library = f"a socket opened by {module}" if own else _library(module)
            if own:
                return library, f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return library or "an unknown library", None


@contextlib.contextmanager
def guard(hosts: Hosts) -> Iterator[None]:
    getaddrinfo, by_name, by_name_ex = socket.getaddrinfo, socket.gethostbyname, socket.gethostbyname_ex
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex
    loop_getaddrinfo = asyncio.base_events.BaseEventLoop.getaddrinfo

    def check(host: Any) -> None:
        if host in hosts:
            library, called_from = caller(sys._getframe(2))
            raise UnroutedProviderCall(
                str(host.decode() if isinstance(host, bytes) else host), library, called_from
            )

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        check(host)
        return getaddrinfo(host, *args, **kwargs)

    def guarded_by_name(host: str) -> str:
        check(host)
        return by_name(host)

    def guarded_by_name_ex(host: str) -> Any:
        check(host)
        return by_name_ex(host)

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple) and address:
            check(address[0])
        connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        if isinstance(address, tuple) and address:
            check(address[0])
        return connect_ex(sock, address)

    async def guarded_loop_getaddrinfo(
        loop: asyncio.AbstractEventLoop, host: Any, *args: Any, **kwargs: Any
    ) -> Any:
        check(host)  # here, in the caller's task, where its frames say who asked
        return await loop_getaddrinfo(loop, host, *args, **kwargs)  # type: ignore[arg-type]

    with (
        mock.patch.object(socket, "getaddrinfo", guarded_getaddrinfo),
        mock.patch.object(socket, "gethostbyname", guarded_by_name),
        mock.patch.object(socket, "gethostbyname_ex", guarded_by_name_ex),
        mock.patch.object(socket.socket, "connect", guarded_connect),
        mock.patch.object(socket.socket, "connect_ex", guarded_connect_ex),
        mock.patch.object(asyncio.base_events.BaseEventLoop, "getaddrinfo", guarded_loop_getaddrinfo),
    ):
        yield
