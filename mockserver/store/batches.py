"""The Redis store's journal entries on their way: every request records one and none waits for
it. The pending entries go as one script call at the end of the event loop's turn when no call
is on its way, else when the one on its way is answered, so under load one call carries the
entries of many requests. They go on
the verbs' connection: a command sent after them is answered after them (a read of the journal,
a reset), and a process that reads the journal finds its own requests there.

Store layer: imports the store's connection, scripts and reach.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from mockserver.store.connection import Connection
from mockserver.store.reach import UNREACHABLE, Reach
from mockserver.store.scripts import SCRIPTS, lost

RECORD = SCRIPTS["RECORD"]
logger = logging.getLogger("mockserver.store")


class Batches:
    def __init__(self, prefix: str, limit: int, reach: Reach) -> None:
        self._prefix, self._limit, self._reach = prefix, limit, reach
        self._pending: list[bytes] = []  # entries not yet sent
        self._connection: Connection | None = None  # the one the calls on their way went by
        self._writing = 0  # calls sent and not yet answered

    def add(self, entry: bytes, connection: Connection) -> None:
        pending = self._pending
        pending.append(entry)
        if connection is not self._connection or (len(pending) == 1 and not self._writing):
            connection.loop.call_soon(self.send, connection)  # with the entries of this turn of the loop
        # else: they go when the call on its way is answered

    def send(self, connection: Connection) -> None:
        """Send what is pending now: before a command that must come after it."""
        if connection is not self._connection:  # a new loop's: the old one's calls are gone
            self._connection, self._writing = connection, 0
        if self._pending:
            batch, self._pending = self._pending, []
            self._write(batch, connection, whole=False)

    def _write(self, batch: list[bytes], connection: Connection, whole: bool) -> None:
        """One call with `batch`: by the script's SHA1, or `whole` (its source)."""
        sent_at = self._reach.changes
        command = ("EVAL", RECORD.source) if whole else ("EVALSHA", RECORD.sha)
        written = connection.call(*command, 0, self._prefix, self._limit, *batch)
        self._writing += 1
        written.add_done_callback(functools.partial(self._written, batch, connection, sent_at, whole))

    def _written(
        self, batch: list[bytes], connection: Connection, sent_at: int, whole: bool, call: asyncio.Future[Any]
    ) -> None:
        if connection is not self._connection:  # sent on a connection this store has left
            return
        self._writing -= 1
        error = None if call.cancelled() else call.exception()
        if error is None:
            if self._reach.down:
                self._reach.worked(sent_at)
        elif lost(error) and not whole:
            self._write(batch, connection, whole=True)
            return
        elif isinstance(error, UNREACHABLE):  # their answers went out; the entries are lost
            self._reach.failed(error, sent_at)
        else:
            logger.error("could not write %d journal entries", len(batch), exc_info=error)
        if self._pending and not self._writing:
            self.send(connection)
