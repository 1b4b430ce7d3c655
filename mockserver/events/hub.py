"""The event hub of one process: every event its subscribers see passes here once, is numbered,
kept in a bounded history (for `Last-Event-ID`) and handed to each subscriber that wants it.

Events come from the engine's verbs (`Emitter`), from other processes (the Redis transport),
from the journal (each request, read back from the journal's own write: the request path pays
nothing) and from the tracker (status and progress moving with fake time). Before an event
passes, the tracker gives out what falls due up to its fake time, so a subscriber sees each
task's transitions in order. The hub listens to the engine only while someone subscribes.

Events layer, beside the runtime: asyncio and the engine; no web framework, no store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sys
from collections import deque
from collections.abc import Callable
from typing import Protocol

from mockserver.engine import Engine
from mockserver.engine.events import Event, Requested, Reset, TaskCreated, TaskEnded
from mockserver.engine.journal import JournalEntry
from mockserver.events.subscriber import Numbered, Subscriber
from mockserver.events.tracker import DEFAULT_STEP, Tracker

JOURNAL_EVERY = 0.1  # real seconds between reads of the journal's new entries
JOURNAL_BATCH = 2000  # entries read at a time
TRACKER_NAP = 1.0  # real seconds the tracker sleeps at most (a clock moved elsewhere wakes it too)
# Real seconds the tracker sleeps at least: the transitions of many tasks, each at its own
# instant, are given out together (each still at its own fake time).
TRACKER_DOZE = 0.05
CUT_GRACE = 1.0  # real seconds a cut-off subscriber's stream has to end before its connection is reset
SEED_PAGE = 1000
SLICE = 256  # transitions given out between two turns of the event loop
READY_TIMEOUT = 5.0  # real seconds a new stream waits for the transport to listen
logger = logging.getLogger("mockserver.events")


class JournalSource(Protocol):
    async def after(self, seq: int, limit: int) -> tuple[int, list[JournalEntry]]:
        """The newest entry's `seq` (0: none), and up to `limit` entries after `seq`, oldest first."""


class Hub:
    def __init__(
        self,
        engine: Engine,
        journal: JournalSource,
        *,
        queue: int = 1000,
        history: int = 10_000,
        step: int = DEFAULT_STEP,
        transport: Transport | None = None,
    ) -> None:
        self.engine, self.journal, self.transport = engine, journal, transport
        self.queue_limit, self.step = queue, step
        self.stream = secrets.token_hex(3)  # names this process's numbering in event ids
        self.subscribers: list[Subscriber] = []
        self.cut_off = 0  # subscribers cut off for falling behind
        self._history: deque[Numbered] = deque(maxlen=history)
        self.frames: dict[tuple[int, str], bytes] = {}  # rendered messages, shared by subscribers
        self._seq = 0
        self._tracker = Tracker(step)
        self._inbox: deque[Event | float] = deque()  # for the pump (`feed`)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._cursor = 0  # the journal's last entry read
        self._ready = asyncio.Event()  # following the store's tasks (and listening to the others)
        self._listening = asyncio.Event()  # the transport listens
        self._fed = asyncio.Event()  # the inbox has something

    # -- subscribers -------------------------------------------------------------------

    def event_id(self, seq: int) -> str:
        return f"{self.stream}-{seq}"

    def subscribe(self, subscriber: Subscriber, last_id: str | None) -> bool:
        """Add a subscriber, first handing it what it missed after `last_id` (an id this hub
        gave); False if that cannot be done (another process's id, or past the history): it
        starts from now and must read the state again."""
        loop = asyncio.get_running_loop()
        if self._loop is not None and self._loop is not loop:
            self._stop()  # the app moved to another event loop (tests): start again there
        resumed = True
        if last_id is not None:
            resumed = self._replay(subscriber, last_id)
        self.subscribers.append(subscriber)
        if self._loop is None:
            self._start(loop)
        return resumed

    def _replay(self, subscriber: Subscriber, last_id: str) -> bool:
        stream, _, number = last_id.strip().rpartition("-")
        if stream != self.stream or not number.isdigit():
            return False
        after = int(number)
        oldest = self._history[0][0] if self._history else self._seq + 1
        if after > self._seq or after < oldest - 1:
            return False
        for numbered in self._history:
            if numbered[0] > after and subscriber.wants(numbered[1]) and not subscriber.offer(numbered):
                return False
        return True

    async def ready(self) -> None:
        """Wait until this hub follows the store's tasks and hears the other processes (a new
        stream opens once it will miss nothing); a transport that does not answer in time is
        waited for no longer (its events come when it does)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), READY_TIMEOUT)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscriber.close()
        if subscriber in self.subscribers:
            self.subscribers.remove(subscriber)
        if not self.subscribers:
            self._stop()

    def _publish(self, event: Event) -> None:
        self._seq += 1
        numbered = (self._seq, event)
        self._history.append(numbered)
        for subscriber in self.subscribers:
            if subscriber.wants(event) and not subscriber.offer(numbered):
                self._cut(subscriber)
        if any(subscriber.cut for subscriber in self.subscribers):
            self.subscribers = [subscriber for subscriber in self.subscribers if not subscriber.cut]

    def _cut(self, subscriber: Subscriber) -> None:
        """A subscriber that fell behind: its stream ends; a connection that will not take
        the end either (its reader stopped reading) is reset after a grace."""
        self.cut_off += 1
        subscriber.cut = True
        subscriber.close()
        if self._loop is not None:
            self._loop.call_later(CUT_GRACE, subscriber.drop_connection)

    # -- what comes in -----------------------------------------------------------------

    def feed(self, event: Event | float) -> None:
        """An event from this process's engine or from another process (or a fake time the
        tracker must run to): taken in order by the pump, never on the caller's time."""
        self._inbox.append(event)
        self._fed.set()

    async def _pump(self) -> None:
        """What came in, in order, once the tracker follows the store's tasks. The tracker's
        transitions up to each event's time go first, a slice at a time with a turn of the
        event loop between, so a clock moved past thousands of transitions lets the streams
        write (and a reader that keeps up is not cut off) on the way."""
        await self._ready.wait()
        inbox, tracker = self._inbox, self._tracker
        while True:
            await self._fed.wait()
            self._fed.clear()
            while inbox:
                item = inbox.popleft()
                until = item if isinstance(item, float) else item.time
                while len(due := tracker.run_to(until, SLICE)) == SLICE:
                    self._publish_all(due)
                    await asyncio.sleep(0)
                self._publish_all(due)
                if not isinstance(item, float):
                    self._pass(item)
                self._wake_tracker()
                await asyncio.sleep(0)

    def _publish_all(self, events: list[Event]) -> None:
        for event in events:
            self._publish(event)

    def _pass(self, event: Event) -> None:
        tracker, data = self._tracker, event.data
        if isinstance(data, TaskCreated):
            tracker.follow(data.task, event.time)
        elif isinstance(data, TaskEnded):
            tracker.drop(data.task.id)
        elif isinstance(data, Reset):
            tracker.forget(data.key)
            if data.key is None:
                self._cursor = 0  # the journal starts again from 1
        self._publish(event)

    # -- while someone listens ---------------------------------------------------------

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._tracker = Tracker(self.step, self.engine.node)
        self._inbox.clear()
        self._ready, self._listening, self._fed = asyncio.Event(), asyncio.Event(), asyncio.Event()
        self.engine.events.listen(self.feed)
        self._tasks = [
            loop.create_task(self._begin()),
            loop.create_task(self._pump()),
            loop.create_task(self._read_journal()),
        ]
        if self.transport is not None:
            self._tasks.append(loop.create_task(self.transport.receive(self._remote, self._listening.set)))
        else:
            self._listening.set()

    def _stop(self) -> None:
        self.engine.events.unlisten(self.feed)
        loop, self._loop = self._loop, None
        for task in self._tasks:
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(task.cancel)
        self._tasks = []
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for subscriber in self.subscribers:
            subscriber.close()
        self.subscribers = []

    async def close(self) -> None:
        """Stop (the app stops): streams end, and the transport closes."""
        tasks = self._tasks
        self._stop()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await task
        if self.transport is not None:
            await self.transport.close()

    async def _begin(self) -> None:
        """Follow the unfinished tasks the store holds, then let through what came meanwhile."""
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._listening.wait(), READY_TIMEOUT)
            await self.engine.sync_clock()
            now, after = self.engine.now(), 0
            while True:
                tasks, last = await self.engine.tasks(None, after, SEED_PAGE)
                for task in tasks:
                    self._tracker.follow(task, now)
                if last is None:
                    break
                after = last
            self._tracker.position = now
            self._cursor = (await self.journal.after(sys.maxsize, 0))[0]  # from now on
        except Exception:  # the store went away: streams carry on with what comes from now
            logger.warning("the event stream could not read the store's tasks", exc_info=True)
        finally:
            self._ready.set()
            self._fed.set()

    def _remote(self, event: Event) -> None:
        if event.node != self.engine.node:
            self.feed(event)

    async def _read_journal(self) -> None:
        """Each request as the journal recorded it (every process's, with a shared store)."""
        while True:
            await asyncio.sleep(JOURNAL_EVERY)
            if not self._ready.is_set():
                continue
            try:
                latest, entries = await self.journal.after(self._cursor, JOURNAL_BATCH)
            except Exception:  # a store briefly unreachable: read again next time
                logger.warning("could not read the journal for the event stream", exc_info=True)
                continue
            if latest < self._cursor:  # reset elsewhere, its event not seen: start again
                self._cursor = 0
            for entry in entries:
                self._cursor = max(self._cursor, entry.seq)
                self.feed(Event(Requested(entry), entry.time, entry.wall, entry.key, None))

    def _wake_tracker(self) -> None:
        """Sleep until the tracker's next transition is due on this clock (a manual clock
        moves only by events, which run the tracker themselves)."""
        loop, due = self._loop, self._tracker.next_due()
        if loop is None or due is None:
            return
        clock = self.engine.clock
        real = clock.real_seconds(due - clock.now())
        if real is None:
            return
        at = loop.time() + min(max(real, TRACKER_DOZE), TRACKER_NAP)
        if self._timer is not None:
            if self._timer.when() <= at:  # it wakes soon enough
                return
            self._timer.cancel()
        self._timer = loop.call_at(at, self._tick)

    def _tick(self) -> None:
        self._timer = None
        self.feed(self.engine.now())


class Transport(Protocol):
    """How events travel between processes sharing a store (`events/redis.py`)."""

    def publish(self, event: Event) -> None: ...

    async def receive(self, deliver: Callable[[Event], None], listening: Callable[[], None]) -> None:
        """Hand every process's events to `deliver` until cancelled (`listening` once it listens)."""

    async def close(self) -> None: ...
