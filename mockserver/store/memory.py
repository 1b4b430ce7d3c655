"""The embedded store: plain dicts and a heap in this process (the default, and the fastest).

Store layer.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import operator
from collections import deque
from collections.abc import Sequence
from typing import Any

import orjson

from mockserver.engine import faults, limits
from mockserver.engine.clock import ClockState
from mockserver.engine.deliveries import Delivery
from mockserver.engine.faults import FaultRule
from mockserver.engine.gate import ADMITTED, Admission, Gate, Insert
from mockserver.engine.journal import JournalEntry, JournalFields, JournalQuery, in_order
from mockserver.engine.tasks import Task
from mockserver.engine.timers import Timer

DEFAULT_JOURNAL_LIMIT = 20_000
KEY = JournalEntry._fields.index("key") - 1  # packed without `seq`
HEADERS = JournalEntry._fields.index("headers") - 1
_new = tuple.__new__  # a named tuple from a plain one
# The fields in the entry's order, the headers left out, taken in C.
_but_headers = operator.itemgetter(*(name for name in JournalEntry._fields[1:] if name != "headers"))


def _pack(fields: JournalFields) -> bytes | tuple[Any, ...]:
    """One bytes object (read back by this process only): the fields but the headers as a compact
    JSON array, which holds no raw newline, then a newline and the headers as sent: orjson, as
    the Redis store keeps entries (a float that is not finite reads back as None in both), about
    4,000 instructions a request fewer than `marshal`. The plain tuple should a field be one JSON
    cannot carry (a string with a lone surrogate, an integer beyond 64 bits) or the headers be
    pairs rather than as sent."""
    headers = fields["headers"]
    if isinstance(headers, bytes):  # as the web layer writes them
        try:
            return orjson.dumps(_but_headers(fields)) + b"\n" + headers
        except orjson.JSONEncodeError:
            pass
    return in_order(fields)


def _unpack(packed: bytes | tuple[Any, ...]) -> tuple[Any, ...]:
    if not isinstance(packed, bytes):
        return packed
    document, _, headers = packed.partition(b"\n")
    values = orjson.loads(document)
    values.insert(HEADERS, headers)
    return tuple(values)


class MemoryStore:
    heartbeat: float | None = None  # no other process shares it

    def __init__(self, journal_limit: int = DEFAULT_JOURNAL_LIMIT) -> None:
        self._journal_limit = journal_limit
        self._clock: ClockState | None = None
        self._tallies: dict[str, int] = {}  # kept by a reset
        self._clear()

    def _clear(self) -> None:
        self._tasks: dict[str, Task] = {}  # insertion order is creation order
        # Task numbers and ids in creation order (numbers rise), for paging by bisection;
        # pruning drops a prefix, so `_first` marks where the live part begins.
        self._numbers: list[int] = []
        self._ids: list[str] = []
        self._first = 0
        self._by_media: dict[str, str] = {}
        self._spent: dict[tuple[str, str], float] = {}  # (key, provider) -> credits
        self._windows: dict[str | None, limits.Window] = {}
        self._rules: list[FaultRule] = []
        # Entries as recorded (seq 0), each packed into one bytes object (`_pack`), beside
        # their sequence numbers: an entry is made once per request, and given its number only
        # when it is read. Packed, the collector never looks at them: kept as tuples, each
        # young collection passed over the last 20,000 requests' entries, a pause of 10-20 ms
        # every couple of seconds under load that set the 99th percentile of every answer.
        self._journal: deque[bytes | tuple[Any, ...]] = deque(maxlen=self._journal_limit)
        self._journal_seqs: deque[int] = deque(maxlen=self._journal_limit)
        self._journal_seq = 0
        self._deliveries: dict[str, Delivery] = {}
        self._timers: list[tuple[float, int, Timer]] = []
        # Timers dropped while waiting: left in the heap (removing one is a linear search) and
        # skipped when they reach its top.
        self._cancelled: set[Timer] = set()
        self._timer_seq = itertools.count()
        self._sequences: dict[str, int] = {}

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def join(self) -> int:
        return 1

    async def beat(self) -> None:
        return None

    async def reset(self, clock: ClockState) -> None:
        self._clear()
        self._clock = clock

    async def forget(self, key: str) -> int:
        doomed = [task for task in self._tasks.values() if task.owner == key]
        for task in doomed:
            del self._tasks[task.id]
            self._by_media.pop(task.media_token, None)
        gone = {task.id for task in doomed}
        if gone:  # the listing's index keeps only tasks that are kept
            kept = [
                (n, i)
                for n, i in zip(self._numbers[self._first :], self._ids[self._first :], strict=True)
                if i not in gone
            ]
            self._numbers, self._ids, self._first = [n for n, _ in kept], [i for _, i in kept], 0
        for delivery in [d for d in self._deliveries.values() if d.task_id in gone]:
            del self._deliveries[delivery.id]
        self._rules = [rule for rule in self._rules if rule.key != key]
        entries = [
            (seq, packed)
            for seq, packed in zip(self._journal_seqs, self._journal, strict=True)
            if _unpack(packed)[KEY] != key
        ]
        self._journal_seqs = deque((seq for seq, _ in entries), maxlen=self._journal_limit)
        self._journal = deque((e for _, e in entries), maxlen=self._journal_limit)
        self._spent = {account: spent for account, spent in self._spent.items() if account[0] != key}
        self._windows.pop(key, None)
        return len(doomed)

    async def load_clock(self) -> ClockState | None:
        return self._clock

    async def save_clock(self, state: ClockState) -> ClockState:
        if self._clock is None or state.version > self._clock.version:
            self._clock = state
        return self._clock

    async def reserve(self, purpose: str, count: int) -> int:
        first = self._sequences.get(purpose, 0) + 1
        self._sequences[purpose] = first + count - 1
        return first

    async def tally(self, name: str) -> int:
        count = self._tallies[name] = self._tallies.get(name, 0) + 1
        return count

    # -- requests and tasks ------------------------------------------------------------

    def _admit(self, gate: Gate) -> Admission:
        fired = None
        if self._rules:
            fired, self._rules = faults.take(self._rules, gate.operation, gate.key, gate.seed)
            if fired is not None and fired.blocks:
                return Admission(rule=fired)
        if gate.limited and gate.per_minute > 0:
            window, wait = limits.hit(self._windows.get(gate.key), gate.now, gate.per_minute)
            self._windows[gate.key] = window
            if wait is not None:
                return Admission(wait=wait)
        return ADMITTED if fired is None else Admission(rule=fired)

    async def admit(self, gate: Gate) -> Admission:
        return self._admit(gate)

    async def read_task(self, gate: Gate, task_id: str) -> tuple[Admission, Task | None]:
        admission = self._admit(gate)
        admitted = admission is ADMITTED or admission.admitted  # the first: the usual case, no property
        return admission, (self._tasks.get(task_id) if admitted else None)

    async def insert_task(
        self, gate: Gate, task: Task, balance: float | None, timers: Sequence[Timer]
    ) -> tuple[Admission, Insert]:
        admission = self._admit(gate)
        if not admission.admitted:
            return admission, Insert.REFUSED
        if task.id in self._tasks:
            return admission, Insert.TAKEN
        account = (task.owner, task.provider)
        spent = self._spent.get(account, 0.0)
        if balance is not None and spent + task.credits > balance:
            return admission, Insert.NO_CREDITS
        self._spent[account] = spent + task.credits
        self._tasks[task.id] = task
        self._numbers.append(task.number)
        self._ids.append(task.id)
        self._by_media[task.media_token] = task.id
        self._push(timers)
        return admission, Insert.DONE

    async def task(self, task_id: str) -> Task | None:
        return self._tasks.get(task_id)

    async def task_by_media(self, token: str) -> Task | None:
        task_id = self._by_media.get(token)
        return None if task_id is None else self._tasks.get(task_id)

    async def swap_task(self, old: Task, new: Task) -> bool:
        if self._tasks.get(old.id) != old:
            return False
        self._tasks[old.id] = new
        return True

    async def tasks(self, provider: str | None, after: int, limit: int) -> list[Task]:
        found: list[Task] = []
        for index in range(bisect.bisect_right(self._numbers, after, lo=self._first), len(self._ids)):
            task = self._tasks.get(self._ids[index])
            if task is not None and (provider is None or task.provider == provider):
                found.append(task)
                if len(found) >= limit:
                    break
        return found

    async def count_tasks(self) -> int:
        return len(self._tasks)

    async def prune(self, created_by: float) -> int:
        doomed = []
        for task in self._tasks.values():  # oldest first: stop at the first to keep
            if task.created_at > created_by:
                break
            doomed.append(task)
        for task in doomed:
            del self._tasks[task.id]
            self._by_media.pop(task.media_token, None)
        self._first += len(doomed)
        if self._first > len(self._ids) // 2:  # compact now and then: amortised O(1) per task
            del self._numbers[: self._first], self._ids[: self._first]
            self._first = 0
        stale = [d.id for d in self._deliveries.values() if d.created_at <= created_by]
        for delivery_id in stale:
            del self._deliveries[delivery_id]
        return len(doomed)

    async def spent(self, key: str, provider: str) -> float:
        return self._spent.get((key, provider), 0.0)

    # -- fault rules -------------------------------------------------------------------

    async def add_rule(self, rule: FaultRule) -> None:
        self._rules = [*self._rules, rule]

    async def rules(self) -> list[FaultRule]:
        return list(self._rules)

    async def clear_rules(self) -> None:
        self._rules = []

    # -- the journal -------------------------------------------------------------------

    def record(self, fields: JournalFields) -> None:
        self._journal_seq += 1
        self._journal_seqs.append(self._journal_seq)
        self._journal.append(_pack(fields))

    async def journal(self, query: JournalQuery) -> list[JournalEntry]:
        since, unnumbered = query.since, query._replace(since=-1)
        entries = (
            _new(JournalEntry, (seq, *_unpack(packed)))
            for seq, packed in zip(self._journal_seqs, self._journal, strict=True)
            if seq > since
        )
        return [entry for entry in entries if unnumbered.matches(entry)]

    async def journal_after(self, seq: int, limit: int) -> tuple[int, list[JournalEntry]]:
        """The newest entry's `seq` (0: none), and up to `limit` entries after `seq`, oldest
        first: read from the newest back, so a reader that keeps up (the event stream) looks at
        the new entries only."""
        newer = []
        for number, packed in zip(reversed(self._journal_seqs), reversed(self._journal), strict=True):
            if number <= seq:
                break
            newer.append((number, packed))
        newer.reverse()
        latest = self._journal_seqs[-1] if self._journal_seqs else 0
        return latest, [_new(JournalEntry, (number, *_unpack(packed))) for number, packed in newer[:limit]]

    # -- callback deliveries -----------------------------------------------------------

    async def put_delivery(self, delivery: Delivery, timers: Sequence[Timer]) -> None:
        self._deliveries[delivery.id] = delivery
        self._push(timers)

    async def delivery(self, delivery_id: str) -> Delivery | None:
        return self._deliveries.get(delivery_id)

    async def deliveries(self) -> list[Delivery]:
        return list(self._deliveries.values())

    async def swap_delivery(
        self, old: Delivery, new: Delivery, timers: Sequence[Timer], cancel: Sequence[Timer] = ()
    ) -> bool:
        if self._deliveries.get(old.id) != old:
            return False
        self._deliveries[old.id] = new
        self._push(timers)
        self._cancelled.update(cancel)
        if len(self._cancelled) > len(self._timers):  # some were claimed before their cancel came
            self._cancelled &= {entry[2] for entry in self._timers}
        return True

    # -- timers ------------------------------------------------------------------------

    def _push(self, timers: Sequence[Timer]) -> None:
        for timer in timers:
            heapq.heappush(self._timers, (timer.when, next(self._timer_seq), timer))

    async def schedule(self, timers: Sequence[Timer]) -> None:
        self._push(timers)

    def _skip_cancelled(self) -> None:
        timers, cancelled = self._timers, self._cancelled
        while cancelled and timers and timers[0][2] in cancelled:
            cancelled.discard(heapq.heappop(timers)[2])

    async def next_due(self) -> float | None:
        self._skip_cancelled()
        return self._timers[0][0] if self._timers else None

    async def claim_due(self, now: float, limit: int) -> list[Timer]:
        claimed: list[Timer] = []
        self._skip_cancelled()
        while self._timers and self._timers[0][0] <= now and len(claimed) < limit:
            claimed.append(heapq.heappop(self._timers)[2])
            self._skip_cancelled()
        return claimed

    async def finish(self, timers: Sequence[Timer]) -> None:
        return None  # one process: a claim cannot outlive its claimant
