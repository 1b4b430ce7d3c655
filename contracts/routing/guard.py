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
import functools
import socket
import sys
import sysconfig
from collections.abc import Callable, Iterator
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


def _guarded(function: Callable[..., Any], check: Callable[[Any], None], where: int) -> Callable[..., Any]:
    """`function`, checking its argument number `where` (a host, or an address) before it runs
    (asyncio's `getaddrinfo` too: checked in the caller's frame, where it is called)."""

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if len(args) > where:
            check(args[where])
        return function(*args, **kwargs)

    return guarded


@contextlib.contextmanager
def guard(hosts: Hosts) -> Iterator[None]:
    def check(host: Any) -> None:
        if isinstance(host, tuple) and host:  # an address: (host, port, ...)
            host = host[0]
        if host in hosts:
            library, called_from = caller(sys._getframe(2))  # the frame that called `guarded`
            name = host.decode() if isinstance(host, bytes) else str(host)
            raise UnroutedProviderCall(name, library, called_from)

    loop = asyncio.base_events.BaseEventLoop
    targets: list[tuple[object, str, int]] = [(socket, "getaddrinfo", 0), (socket, "gethostbyname", 0)]
    targets += [(socket, "gethostbyname_ex", 0)]
    targets += [(socket.socket, "connect", 1), (socket.socket, "connect_ex", 1), (loop, "getaddrinfo", 1)]
    with contextlib.ExitStack() as stack:
        for owner, name, where in targets:
            original = getattr(owner, name)
            stack.enter_context(mock.patch.object(owner, name, _guarded(original, check, where)))
        yield
