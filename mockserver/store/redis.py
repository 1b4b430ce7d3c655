"""The shared store: one Redis (or Valkey) server holds every process's state, so several
`mockserver` processes, or workers, serve one fake.

Store layer: imports the engine's records, the codec and the store's own connection
(`connection.py`, which speaks Redis's protocol itself: in C with hiredis, `pip install
'videogen-mock[redis]'`, else in Python). Verbs that read then write are one Lua script each
(`lua.py`): a create is one call; a poll is one transaction of three reads where its gate only
reads (no rate limit, no fault rule), else one script. Journal entries are written in batches,
a moment after their answers (`batches.py`). Fake-time deadlines are data (the `timers` sorted
set), never key expiry; only heartbeats expire, in real time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any, cast

from mockserver.engine.clock import ClockState
from mockserver.engine.deliveries import Delivery
from mockserver.engine.faults import FaultRule
from mockserver.engine.gate import ADMITTED, Admission, Gate, Insert
from mockserver.engine.journal import JournalEntry, JournalFields, JournalQuery, entry_of
from mockserver.engine.tasks import Task
from mockserver.engine.timers import Timer
from mockserver.loops import LoopMark
from mockserver.store import address, codec
from mockserver.store.batches import Batches
from mockserver.store.connection import Connection
from mockserver.store.memory import DEFAULT_JOURNAL_LIMIT
from mockserver.store.reach import UNREACHABLE, Reach, reaching
from mockserver.store.resp import ReplyError
from mockserver.store.scripts import SCRIPTS, SOURCES, lost

DEFAULT_PREFIX = "mockserver:"
DEFAULT_NODE_TIMEOUT = 5.0  # real seconds without a heartbeat before a node counts as gone
PAGE_SIZE = 500
logger = logging.getLogger("mockserver.store")
_INSERTS = {b"done": Insert.DONE, b"taken": Insert.TAKEN, b"no_credits": Insert.NO_CREDITS}


def _account(key: str, provider: str) -> str:
    """A key's spending at one provider (balances are per provider, in its unit)."""
    return f"{key}|{provider}"


def _number(value: float) -> str:
    return repr(float(value))


def _timer_args(timers: Sequence[Timer]) -> list[Any]:
    args: list[Any] = []
    for timer in timers:
        args += [_number(timer.when), codec.encode_timer(timer)]
    return args


class RedisStore:
    def __init__(
        self,
        url: str,
        *,
        prefix: str = DEFAULT_PREFIX,
        journal_limit: int = DEFAULT_JOURNAL_LIMIT,
        node_timeout: float = DEFAULT_NODE_TIMEOUT,
    ) -> None:
        self.url, self.prefix = url, prefix
        self.heartbeat: float | None = node_timeout / 3
        self._lifetime_ms = max(1, round(node_timeout * 1000))
        self._connection: Connection | None = None
        self._here = LoopMark()  # the loop the connection belongs to (`loops.py`: asked cheaply)
        self._node = "0"
        self.reach = Reach(url)  # the store's coming and going, for people
        self._batches = Batches(prefix, journal_limit, self.reach)  # journal entries on their way

    # -- connection ----------------------------------------------------------------------

    def _conn(self) -> Connection:
        """This loop's connection: a connection belongs to the loop that made it."""
        connection = self._connection
        if connection is not None and self._here.here():  # the usual case, asked every command
            return connection
        loop = asyncio.get_running_loop()
        if connection is None or self._here.loop is not loop:
            # The URL is read here, so a wrong one fails the start-up (`open`) with its reason.
            connection = self._connection = Connection(address.parse(self.url), SOURCES)
            self._here.set(loop)
        return connection

    async def _run(self, name: str, *args: Any) -> Any:
        connection, script = self._conn(), SCRIPTS[name]
        try:
            return await connection.call("EVALSHA", script.sha, 0, self.prefix, *args)
        except ReplyError as error:
            if not lost(error):
                raise
        return await connection.call("EVAL", script.source, 0, self.prefix, *args)

    def _key(self, name: str) -> str:
        return self.prefix + name

    @reaching
    async def open(self) -> None:
        await self._conn().call("PING")

    async def close(self) -> None:
        connection = self._connection
        if connection is not None and self._here.loop is asyncio.get_running_loop():
            try:
                self._batches.send(connection)
                await self._run("RELEASE", self._node)  # answered after the journal's writes
            except UNREACHABLE:  # a store that is gone holds no claims of this process to release
                pass
            finally:
                await connection.close()
        self._connection = None

    @reaching
    async def join(self) -> int:
        node: int = await self._conn().call("INCR", self._key("nodes"))
        self._node = str(node)
        return node

    @reaching
    async def beat(self) -> None:
        await self._conn().call("SET", self._key(f"alive:{self._node}"), b"1", "PX", self._lifetime_ms)

    @reaching
    async def reset(self, clock: ClockState) -> None:
        self._batches.send(self._conn())  # entries on their way land before the reset, not after it
        await self._run("RESET", clock.version, codec.encode_clock(clock))

    @reaching
    async def forget(self, key: str) -> int:
        self._batches.send(self._conn())  # the key's entries still pending go too
        forgotten: int = await self._run("FORGET", key)
        return forgotten

    # -- the clock -----------------------------------------------------------------------

    @reaching
    async def load_clock(self) -> ClockState | None:
        raw = await self._conn().call("HGET", self._key("clock"), "s")
        return None if raw is None else codec.decode_clock(raw)

    @reaching
    async def save_clock(self, state: ClockState) -> ClockState:
        return codec.decode_clock(await self._run("SAVE_CLOCK", state.version, codec.encode_clock(state)))

    @reaching
    async def reserve(self, purpose: str, count: int) -> int:
        last: int = await self._conn().call("HINCRBY", self._key("seq"), purpose, count)
        return last - count + 1

    async def tally(self, name: str) -> int:
        count: int = await self._conn().call("HINCRBY", self._key("tallies"), name, 1)  # not a RESET key
        return count

    # -- requests and tasks --------------------------------------------------------------

    async def _gated(self, script: str, gate: Gate, *args: Any) -> tuple[Admission, list[Any]]:
        reply = await self._run(
            script,
            gate.clock_version,
            gate.operation,
            gate.key or "",
            "1" if gate.limited and gate.per_minute > 0 else "0",
            gate.per_minute,
            _number(gate.now),
            gate.seed,
            *args,
        )
        kind = reply[0]
        if kind == b"clock":
            return Admission(clock=codec.decode_clock(reply[1])), reply
        if kind == b"rule":
            return Admission(rule=codec.decode_rule(reply[1])), reply
        if kind == b"wait":
            return Admission(wait=float(reply[1])), reply
        fired = reply[1]  # a rule that fired without stopping the verb, or empty
        return (Admission(rule=codec.decode_rule(fired)) if fired else ADMITTED), reply

    @reaching
    async def admit(self, gate: Gate) -> Admission:
        return (await self._gated("ADMIT", gate))[0]

    @reaching
    async def read_task(self, gate: Gate, task_id: str) -> tuple[Admission, Task | None]:
        # Outside any rate limit and with no fault rule waiting, the gate only reads: the clock's
        # version, the rules and the task read together (a transaction costs Redis a fraction of
        # a script) decide; else, or with a stale clock, the script does.
        if not (gate.limited and gate.per_minute > 0):
            version, rules, raw = await self._conn().transaction(
                ("HGET", self._key("clock"), "v"),
                ("LLEN", self._key("rules")),
                ("HGET", self._key("tasks"), task_id),
            )
            if not rules and (version is None or int(version) == gate.clock_version):
                return ADMITTED, None if raw is None else codec.decode_task(raw)
        admission, reply = await self._gated("READ_TASK", gate, task_id)
        if not admission.admitted or reply[2] is None:
            return admission, None
        return admission, codec.decode_task(reply[2])

    @reaching
    async def insert_task(
        self, gate: Gate, task: Task, balance: float | None, timers: Sequence[Timer]
    ) -> tuple[Admission, Insert]:
        admission, reply = await self._gated(
            "INSERT_TASK",
            gate,
            task.id,
            codec.encode_task(task),
            _account(task.owner, task.provider),
            _number(task.credits),
            "" if balance is None else _number(balance),
            task.number,
            _number(task.created_at),
            task.media_token,
            *_timer_args(timers),
        )
        if not admission.admitted:
            return admission, Insert.REFUSED
        return admission, _INSERTS[reply[0]]

    @reaching
    async def task(self, task_id: str) -> Task | None:
        raw = await self._conn().call("HGET", self._key("tasks"), task_id)
        return None if raw is None else codec.decode_task(raw)

    @reaching
    async def task_by_media(self, token: str) -> Task | None:
        raw = await self._run("TASK_BY_MEDIA", token)
        return None if raw is None else codec.decode_task(raw)

    @reaching
    async def swap_task(self, old: Task, new: Task) -> bool:
        swapped = await self._run("SWAP", "tasks", old.id, codec.encode_task(old), codec.encode_task(new))
        return bool(swapped)

    async def _page(self, hash_name: str, order: str, after: float, limit: int) -> list[tuple[float, bytes]]:
        reply = await self._run("PAGE", hash_name, order, f"({_number(after)}", "+inf", limit)
        return [(float(reply[i]), reply[i + 1]) for i in range(0, len(reply), 2) if reply[i + 1]]

    @reaching
    async def tasks(self, provider: str | None, after: int, limit: int) -> list[Task]:
        found: list[Task] = []
        position: float = after
        while len(found) < limit:
            page = await self._page("tasks", "order", position, PAGE_SIZE)
            for _, raw in page:
                task = codec.decode_task(raw)
                if provider is None or task.provider == provider:
                    found.append(task)
            if len(page) < PAGE_SIZE:
                break
            position = page[-1][0]
        return found[:limit]

    @reaching
    async def count_tasks(self) -> int:
        count: int = await self._conn().call("HLEN", self._key("tasks"))
        return count

    @reaching
    async def prune(self, created_by: float) -> int:
        pruned: int = await self._run("PRUNE", _number(created_by))
        return pruned

    @reaching
    async def spent(self, key: str, provider: str) -> float:
        raw = await self._conn().call("HGET", self._key("spent"), _account(key, provider))
        return 0.0 if raw is None else float(raw)

    # -- fault rules ---------------------------------------------------------------------

    @reaching
    async def add_rule(self, rule: FaultRule) -> None:
        await self._conn().call("RPUSH", self._key("rules"), codec.encode_rule(rule))

    @reaching
    async def rules(self) -> list[FaultRule]:
        return [
            codec.decode_rule(raw) for raw in await self._conn().call("LRANGE", self._key("rules"), 0, -1)
        ]

    @reaching
    async def clear_rules(self) -> None:
        await self._conn().call("DEL", self._key("rules"))

    # -- the journal ---------------------------------------------------------------------

    def record(self, fields: JournalFields) -> None:
        self._batches.add(codec.encode_entry(entry_of(fields)), self._conn())

    @reaching
    async def journal(self, query: JournalQuery) -> list[JournalEntry]:
        connection = self._conn()
        self._batches.send(connection)
        entries = []
        for raw in await connection.call("LRANGE", self._key("journal"), 0, -1):
            seq, _, document = cast(bytes, raw).partition(b" ")
            entry = codec.decode_entry(document)._replace(seq=int(seq))
            if query.matches(entry):
                entries.append(entry)
        return entries

    # -- callback deliveries -------------------------------------------------------------

    @reaching
    async def put_delivery(self, delivery: Delivery, timers: Sequence[Timer]) -> None:
        await self._run("PUT_DELIVERY", delivery.id, codec.encode_delivery(delivery), *_timer_args(timers))

    @reaching
    async def delivery(self, delivery_id: str) -> Delivery | None:
        raw = await self._conn().call("HGET", self._key("deliveries"), delivery_id)
        return None if raw is None else codec.decode_delivery(raw)

    @reaching
    async def deliveries(self) -> list[Delivery]:
        found: list[Delivery] = []
        position = 0.0
        while True:
            page = await self._page("deliveries", "deliveries:order", position, PAGE_SIZE)
            found += [codec.decode_delivery(raw) for _, raw in page]
            if len(page) < PAGE_SIZE:
                return found
            position = page[-1][0]

    @reaching
    async def swap_delivery(
        self, old: Delivery, new: Delivery, timers: Sequence[Timer], cancel: Sequence[Timer] = ()
    ) -> bool:
        swapped = await self._run(
            "SWAP",
            "deliveries",
            old.id,
            codec.encode_delivery(old),
            codec.encode_delivery(new),
            len(cancel),
            *map(codec.encode_timer, cancel),
            *_timer_args(timers),
        )
        return bool(swapped)

    # -- timers on fake time -------------------------------------------------------------

    @reaching
    async def schedule(self, timers: Sequence[Timer]) -> None:
        if timers:
            pairs = {codec.encode_timer(t): t.when for t in timers}  # one equal to another merges
            scored = [part for timer, when in pairs.items() for part in (_number(when), timer)]
            await self._conn().call("ZADD", self._key("timers"), *scored)

    @reaching
    async def next_due(self) -> float | None:
        first = await self._conn().call("ZRANGE", self._key("timers"), 0, 0, "WITHSCORES")
        return float(first[1]) if first else None

    @reaching
    async def claim_due(self, now: float, limit: int) -> list[Timer]:
        reply = await self._run("CLAIM_DUE", self._node, _number(now), limit, self._lifetime_ms)
        return [codec.decode_timer(reply[i]) for i in range(0, len(reply), 2)]

    @reaching
    async def finish(self, timers: Sequence[Timer]) -> None:
        if timers:
            await self._conn().call(
                "ZREM", self._key(f"claims:{self._node}"), *map(codec.encode_timer, timers)
            )
