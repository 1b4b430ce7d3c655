"""What the web layer uses of the fake it serves: a narrow protocol, so the pipeline depends on
these few parts and not on the whole `Fake` (the app's composition object, which satisfies it).

Web layer: imports the engine, the callback guard, the settings and the log's protocol.
"""

from __future__ import annotations

from typing import Protocol

from mockserver.callbacks.guard import CallbackGuard
from mockserver.engine import Engine
from mockserver.engine.replay import Book
from mockserver.logs import RequestLog
from mockserver.settings import Settings


class Driver(Protocol):
    """The asyncio side that runs timed effects beside the requests (`mockserver.runtime`)."""

    def running(self) -> bool:
        """The driver runs on the loop asking."""

    async def start(self) -> None: ...

    async def ensure_started(self) -> None: ...

    async def stop(self) -> None: ...


class Host(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def runtime(self) -> Driver: ...

    @property
    def guard(self) -> CallbackGuard: ...

    @property
    def known_hosts(self) -> frozenset[str]:
        """Names the fake is reached by (`web/hosts.py`)."""

    @property
    def request_log(self) -> RequestLog | None:
        """A line per request, when request logging is on."""

    @property
    def replay(self) -> Book | None:
        """The recordings being replayed, if any (`mockserver/upstream/replay.py`)."""
