"""One connection to Redis for a process's store on one event loop, shared by all its verbs:
commands are answered in order (pipelined), so concurrent requests need no pool, no lock and no
task of their own. The commands sent in one turn of the event loop go in one write, and the
replies that arrive together are read together (`resp.py`: in C where hiredis is installed):
under load, one system call each way serves many requests, in this process and in Redis.

Store layer: imports the store's address and protocol only. A store that cannot be reached, or
stops answering, raises `OSError`s (ConnectionError, TimeoutError: what `reach.UNREACHABLE`
catches); a command Redis refuses raises `resp.ReplyError`.
"""

from __future__ import annotations

import asyncio
import collections
import socket
from collections.abc import Callable, Sequence
from typing import Any

from mockserver.store import resp
from mockserver.store.address import Address
from mockserver.store.resp import Arg, ReplyError

# Each reply to come: the future it resolves (None: a reply that goes nowhere), and by when.
Waiting = collections.deque[tuple["asyncio.Future[Any] | None", float]]
MULTI, EXEC = resp.pack(("MULTI",)), resp.pack(("EXEC",))


class Link(asyncio.Protocol):
    """An open connection: each command's future waits in line, and each reply resolves the
    first in line. A reply that does not come within the reply timeout closes the link (every
    reply after it would come after it), and every command still waiting fails."""

    def __init__(self, loop: asyncio.AbstractEventLoop, reply_timeout: float) -> None:
        self.open = False
        self.closed: asyncio.Future[None] = loop.create_future()
        self._loop = loop
        self._timeout = reply_timeout
        self._reader = resp.reader()
        self._waiting: Waiting = collections.deque()
        self._transport: asyncio.Transport | None = None
        self._outgoing: list[bytes] = []  # commands to write at the end of this turn of the loop
        self._watchdog: asyncio.TimerHandle | None = None

    def send(self, command: bytes, replies: int = 1) -> asyncio.Future[Any]:
        """Send packed commands (written with the others of this turn) that get `replies`
        replies; the future of the last one (those before it go nowhere)."""
        loop = self._loop
        future = loop.create_future()
        if not self.open:  # lost since the caller looked
            future.set_exception(ConnectionError("the connection to the store was lost"))
            return future
        deadline = loop.time() + self._timeout
        waiting = self._waiting
        for _ in range(replies - 1):
            waiting.append((None, deadline))
        waiting.append((future, deadline))
        if not self._outgoing:
            loop.call_soon(self._write)
        self._outgoing.append(command)
        if self._watchdog is None:  # one timer while busy, not one per command
            self._watchdog = loop.call_at(deadline, self._watch)
        return future

    def _write(self) -> None:
        outgoing, self._outgoing = self._outgoing, []
        if self.open:  # else their futures have failed already
            self._transport.write(b"".join(outgoing))  # type: ignore[union-attr]  # open: it has one

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # a stream transport
        self.open = True
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family != socket.AF_UNIX:  # notice a peer that vanished
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)

    def data_received(self, data: bytes) -> None:
        reader, waiting = self._reader, self._waiting
        reader.feed(data)
        try:
            while (reply := reader.gets()) is not False:
                future = waiting.popleft()[0]
                if future is None or future.done():  # none, or its caller was cancelled
                    continue
                if type(reply) is ReplyError:
                    future.set_exception(reply)
                else:
                    future.set_result(reply)
        except resp.ProtocolError as error:
            self._abort(ConnectionError, f"the store's reply could not be read ({error})")
        except IndexError:
            self._abort(ConnectionError, "the store answered a command that was not sent")

    def connection_lost(self, exc: Exception | None) -> None:
        reason = "the store closed the connection" if exc is None else f"the connection was lost ({exc})"
        self._fail(ConnectionError, reason)
        if not self.closed.done():
            self.closed.set_result(None)

    def _watch(self) -> None:
        self._watchdog = None
        if not self._waiting:
            return
        deadline = self._waiting[0][1]
        if self._loop.time() >= deadline:
            self._abort(TimeoutError, f"the store did not answer within {self._timeout:g} s")
        else:
            self._watchdog = self._loop.call_at(deadline, self._watch)

    def _abort(self, kind: Callable[[str], OSError], reason: str) -> None:
        self._fail(kind, reason)
        if self._transport is not None:
            self._transport.abort()

    def _fail(self, kind: Callable[[str], OSError], reason: str) -> None:
        """Every command still waiting fails (each with its own exception)."""
        self.open = False
        if self._watchdog is not None:
            self._watchdog.cancel()
            self._watchdog = None
        while self._waiting:
            future = self._waiting.popleft()[0]
            if future is not None and not future.done():
                future.set_exception(kind(reason))


class Connection:
    """The link to the store on the event loop it is made on: opened by the first command, and
    opened again by the first command after it was lost (a store that went away and came back).
    Commands sent while it opens wait for that one opening; if it fails, they fail with its
    reason."""

    def __init__(self, address: Address, scripts: Sequence[str] = ()) -> None:
        self.address = address
        self.loop = asyncio.get_running_loop()
        self._scripts = scripts  # loaded on every opening: EVALSHA finds them
        self._link: Link | None = None
        self._opening: asyncio.Future[Link] | None = None

    def call(self, *args: Arg) -> asyncio.Future[Any]:
        """Send one command (floats are sent as `repr` writes them); the future of its reply."""
        link = self._link
        if link is not None and link.open:
            return link.send(resp.pack_command(args))
        return asyncio.ensure_future(self._reopened(resp.pack_command(args)))

    def transaction(self, *commands: tuple[Arg, ...]) -> asyncio.Future[Any]:
        """Send commands that Redis runs together, nothing between them (MULTI ... EXEC); the
        future of their replies."""
        link, packed = self._link, [MULTI, *map(resp.pack_command, commands), EXEC]
        if link is not None and link.open:
            return link.send(b"".join(packed), len(packed))
        return asyncio.ensure_future(self._reopened(b"".join(packed), len(packed)))

    async def close(self) -> None:
        link, self._link = self._link, None
        if link is not None:
            link.close()
            await asyncio.wait([link.closed], timeout=self.address.reply_timeout)

    async def _reopened(self, packed: bytes, replies: int = 1) -> Any:
        if self._opening is None:
            self._opening = asyncio.ensure_future(self._open())
            self._opening.add_done_callback(self._opened)
        link = await asyncio.shield(self._opening)
        return await link.send(packed, replies)

    def _opened(self, opening: asyncio.Future[Link]) -> None:
        self._opening = None
        if not opening.cancelled() and opening.exception() is None:
            self._link = opening.result()

    async def _open(self) -> Link:
        address, loop = self.address, self.loop

        def link() -> Link:
            return Link(loop, address.reply_timeout)

        async with asyncio.timeout(address.connect_timeout):
            if address.path:
                _, made = await loop.create_unix_connection(link, address.path)
            else:
                _, made = await loop.create_connection(link, address.host, address.port, ssl=address.tls)
            greeting = [made.send(resp.pack_command(command)) for command in self._greeting()]
            try:
                await asyncio.gather(*greeting)
            except ReplyError as error:
                made.close()
                raise ConnectionRefusedError(f"the store refused the connection's set-up ({error})") from None
            except BaseException:
                made.close()
                raise
        return made

    def _greeting(self) -> list[tuple[str | int, ...]]:
        """Log in, choose the database, load the scripts: sent together, before any command."""
        address, commands = self.address, []
        if address.password is not None:
            credentials = (
                (address.password,) if address.username is None else (address.username, address.password)
            )
            commands.append(("AUTH", *credentials))
        if address.db:
            commands.append(("SELECT", address.db))
        commands += [("SCRIPT", "LOAD", source) for source in self._scripts]
        return commands
