"""Whether a remembered event loop is the one running the caller, asked on every request
without `asyncio.get_running_loop()`: that makes a `getpid()` system call each time (CPython's
check that the loop was not inherited across a fork), a microsecond or more of a request.

Imports nothing from the rest of the package.
"""

from __future__ import annotations

import asyncio
import threading


class LoopMark:
    """A loop and the thread it runs in. `here()`: that loop is running, in the calling thread,
    so it is the loop running the caller (a thread runs one loop at a time)."""

    __slots__ = ("loop", "thread")

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = 0

    def set(self, loop: asyncio.AbstractEventLoop | None) -> None:
        self.loop, self.thread = loop, threading.get_ident()

    def here(self) -> bool:
        loop = self.loop
        return loop is not None and loop.is_running() and self.thread == threading.get_ident()
