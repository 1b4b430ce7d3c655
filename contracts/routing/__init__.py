"""Routes from Python's HTTP clients to the fake in-process, one small module per library,
each through the hook that library offers for it; then the guard behind them.

| library          | how its requests to a routed host reach the fake                             |
|------------------|------------------------------------------------------------------------------|
| httpx            | its transports (sync and async) answer in-process, no connection             |
| requests         | through urllib3, below                                                       |
| urllib3          | a connection's socket is the fake's end of a socket pair (no TCP, no TLS)    |
| aiohttp          | its connector's connection is asyncio's transport on such a socket           |
| urllib.request   | its handlers open an http.client connection on such a socket                 |

Contracts layer. A library is routed only where it is installed, and imported only then.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from contracts.routing.guard import UnroutedProviderCall, guard
from contracts.routing.hosts import Hosts
from contracts.routing.inprocess import InProcess
from contracts.routing.subprocesses import guarded_children

__all__ = ["ROUTES", "Hosts", "InProcess", "Route", "UnroutedProviderCall", "installed", "routed"]


@dataclass(frozen=True)
class Route:
    library: str  # as users install it
    needs: str  # the module whose presence says it is installed
    module: str  # the route's module here (`contracts.routing.<name>`), with `route(hosts, fake)`


ROUTES = (
    Route("httpx", "httpx", "contracts.routing.httpx_route"),
    Route("urllib3", "urllib3", "contracts.routing.urllib3_route"),  # requests too
    Route("aiohttp", "aiohttp", "contracts.routing.aiohttp_route"),
    Route("urllib.request", "urllib.request", "contracts.routing.urllib_route"),
)


def installed(routes: Iterable[Route] = ROUTES) -> list[Route]:
    return [r for r in routes if importlib.util.find_spec(r.needs) is not None]


@contextlib.contextmanager
def routed(hosts: Hosts, fake: InProcess, *, guarded: bool = True) -> Iterator[None]:
    """Every installed library's route to `fake` for `hosts`, and the guard unless turned off."""
    with contextlib.ExitStack() as stack:
        for found in installed():
            stack.enter_context(importlib.import_module(found.module).route(hosts, fake))
        if guarded:
            stack.enter_context(guard(hosts))
            stack.enter_context(guarded_children(hosts))
        yield
