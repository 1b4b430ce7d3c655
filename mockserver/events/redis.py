"""Events between processes sharing a Redis store, on a connection of their own: each process
publishes the events its engine emits (batched, one PUBLISH per turn of the event loop) on one
channel, and a process with subscribers listens to it; requests are read back from the shared
journal (one script call per read, from the newest entry back), so each subscriber sees every
process's events once.

Events layer: redis-py (the `redis` extra) and the store's journal layout (the `journal` list
of `"<seq> <entry>"`, oldest first: tests/events checks this against `RedisStore.journal`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, cast

from redis.asyncio import Redis

from mockserver.engine.events import Event
from mockserver.engine.journal import JournalEntry
from mockserver.events import codec as event_codec
from mockserver.loops import LoopMark
from mockserver.store import codec

CHANNEL = "events"
LISTEN_TIMEOUT = 1.0  # real seconds a read of the channel waits (then it checks it is still wanted)
logger = logging.getLogger("mockserver.events")

# ARGV[1]: the prefix, ARGV[2]: the last seq read, ARGV[3]: how many at most. The newest seq,
# then the entries after ARGV[2] (seqs rise along the list: bisection finds where they begin).
AFTER = """
local key = ARGV[1] .. 'journal'
local since, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
local n = redis.call('LLEN', key)
if n == 0 then return {0} end
local function seq(i) return tonumber(string.match(redis.call('LINDEX', key, i), '^(%d+)')) end
local low, high = 0, n
while low < high do
  local middle = math.floor((low + high) / 2)
  if seq(middle) <= since then low = middle + 1 else high = middle end
end
local found = {}
if limit > 0 and low < n then found = redis.call('LRANGE', key, low, math.min(n, low + limit) - 1) end
table.insert(found, 1, seq(n - 1))
return found
"""


class RedisEvents:
    def __init__(self, url: str, prefix: str) -> None:
        self.url, self.prefix = url, prefix
        self.channel = prefix + CHANNEL
        self._redis: Redis | None = None
        self._here = LoopMark()
        self._pending: list[bytes] = []
        self._flushing: asyncio.Task[None] | None = None
        self._after: Any = None

    def _conn(self) -> Redis:
        loop = asyncio.get_running_loop()
        if self._redis is None or self._here.loop is not loop:
            self._redis = Redis.from_url(self.url)
            self._here.set(loop)
            self._after = self._redis.register_script(AFTER)
        return self._redis

    # -- publishing ----------------------------------------------------------------------

    def publish(self, event: Event) -> None:
        """Queue an event of this process's engine; they leave together a moment later."""
        self._pending.append(event_codec.encode(event))
        flushing = self._flushing
        loop = asyncio.get_running_loop()
        if flushing is None or flushing.done() or flushing.get_loop() is not loop:
            self._flushing = loop.create_task(self._flush())

    async def _flush(self) -> None:
        await asyncio.sleep(0)  # let the events of this turn join the batch
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._conn().publish(self.channel, event_codec.encode_batch(batch))
            except Exception:  # the events are lost to other processes' streams; nothing else
                logger.warning("could not publish %d events", len(batch), exc_info=True)

    # -- receiving -----------------------------------------------------------------------

    async def receive(self, deliver: Callable[[Event], None], listening: Callable[[], None]) -> None:
        """Every process's events (this one's included) to `deliver`, until cancelled."""
        pubsub = self._conn().pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.channel)
            listening()
            while True:
                message = await pubsub.get_message(timeout=LISTEN_TIMEOUT)
                if message is None or message.get("type") != "message":
                    continue
                try:
                    events = event_codec.decode_batch(message["data"])
                except Exception:
                    logger.warning("an event batch could not be read", exc_info=True)
                    continue
                for event in events:
                    deliver(event)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def after(self, seq: int, limit: int) -> tuple[int, list[JournalEntry]]:
        self._conn()
        reply = await self._after(args=[self.prefix, seq, limit])
        entries = []
        for raw in reply[1:]:
            number, _, document = cast(bytes, raw).partition(b" ")
            entries.append(codec.decode_entry(document)._replace(seq=int(number)))
        return int(reply[0]), entries

    async def close(self) -> None:
        redis, self._redis = self._redis, None
        if redis is not None and self._here.loop is asyncio.get_running_loop():
            if self._flushing is not None and not self._flushing.done():
                await asyncio.wait({self._flushing}, timeout=1.0)
            await redis.aclose()
