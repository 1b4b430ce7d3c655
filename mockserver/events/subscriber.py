"""One subscriber of the event stream: what it asked for (a key, kinds), and a bounded queue of
numbered events waiting for its connection. A subscriber that lets its queue fill is cut off
(`Hub`): its stream ends, and it comes back with `Last-Event-ID`.

Events layer: asyncio and the engine's event records only.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable

from mockserver.engine.events import Event

Numbered = tuple[int, Event]


def wanted_kinds(raw: str | None, known: set[str]) -> tuple[str, ...] | None:
    """The `kind` filter's parts (a kind, or a prefix of kinds such as `task`); None for all.
    ValueError names a part that matches no kind."""
    if raw is None or not raw.strip():
        return None
    parts = tuple(part.strip() for part in raw.split(",") if part.strip())
    for part in parts:
        if not any(kind == part or kind.startswith(part + ".") for kind in known):
            raise ValueError(f"{part!r} is not a kind or a prefix of one: {', '.join(sorted(known))}")
    return parts


class Subscriber:
    def __init__(self, key: str | None, kinds: tuple[str, ...] | None, limit: int) -> None:
        self.key, self.kinds, self.limit = key, kinds, limit
        self.queue: deque[Numbered] = deque()
        self.wake = asyncio.Event()  # something is queued
        self.hurry = asyncio.Event()  # half the queue is taken (or it closed): write now
        self.closed = False  # its connection went, or it was cut off
        self.cut = False  # it fell behind and was cut off
        self.abort: Callable[[], None] | None = None  # drop its connection (a stalled reader)

    def wants(self, event: Event) -> bool:
        """Events of its key and those of no key (the clock, whole resets); of its kinds."""
        if self.key is not None and event.key is not None and event.key != self.key:
            return False
        kinds = self.kinds
        if kinds is None:
            return True
        kind = event.data.KIND
        return any(kind == part or kind.startswith(part + ".") for part in kinds)

    def offer(self, numbered: Numbered) -> bool:
        """Queue an event; False if the queue is full (the subscriber has fallen behind)."""
        if len(self.queue) >= self.limit:
            return False
        self.queue.append(numbered)
        self.wake.set()
        if len(self.queue) * 2 >= self.limit:
            self.hurry.set()
        return True

    def take(self) -> list[Numbered]:
        taken = list(self.queue)
        self.queue.clear()
        self.wake.clear()
        self.hurry.clear()
        return taken

    def close(self) -> None:
        self.closed = True
        self.wake.set()
        self.hurry.set()

    def drop_connection(self) -> None:
        """Still open after its grace: its reader has stopped reading; reset the connection."""
        if self.abort is not None:
            self.abort()
