"""A second store for the test suite: the memory store behind a wall that copies every record
in and out through the codec a shared store uses. Code that keeps a reference to a stored
object, mutates it, or compares stored objects by identity fails against it."""

from __future__ import annotations

from collections.abc import Sequence

from mockserver.engine.clock import ClockState
from mockserver.engine.deliveries import Delivery
from mockserver.engine.faults import FaultRule
from mockserver.engine.gate import Admission, Gate, Insert
from mockserver.engine.journal import JournalEntry, JournalFields, JournalQuery, entry_of, fields_of
from mockserver.engine.tasks import Task
from mockserver.engine.timers import Timer
from mockserver.store import codec
from mockserver.store.memory import MemoryStore


def _task(task: Task | None) -> Task | None:
    return None if task is None else codec.decode_task(codec.encode_task(task))


def _delivery(delivery: Delivery | None) -> Delivery | None:
    return None if delivery is None else codec.decode_delivery(codec.encode_delivery(delivery))


def _rule(rule: FaultRule | None) -> FaultRule | None:
    return None if rule is None else codec.decode_rule(codec.encode_rule(rule))


def _admission(admission: Admission) -> Admission:
    clock = None if admission.clock is None else codec.decode_clock(codec.encode_clock(admission.clock))
    return Admission(_rule(admission.rule), admission.wait, clock)


def _timers(timers: Sequence[Timer]) -> list[Timer]:
    return [codec.decode_timer(codec.encode_timer(t)) for t in timers]


class CopyingStore:
    heartbeat: float | None = None

    def __init__(self) -> None:
        self._inner = MemoryStore()

    async def open(self) -> None:
        await self._inner.open()

    async def close(self) -> None:
        await self._inner.close()

    async def join(self) -> int:
        return await self._inner.join()

    async def beat(self) -> None:
        await self._inner.beat()

    async def forget(self, key: str) -> int:
        return await self._inner.forget(key)

    async def reset(self, clock: ClockState) -> None:
        await self._inner.reset(codec.decode_clock(codec.encode_clock(clock)))

    async def load_clock(self) -> ClockState | None:
        state = await self._inner.load_clock()
        return None if state is None else codec.decode_clock(codec.encode_clock(state))

    async def save_clock(self, state: ClockState) -> ClockState:
        stood = await self._inner.save_clock(codec.decode_clock(codec.encode_clock(state)))
        return codec.decode_clock(codec.encode_clock(stood))

    async def reserve(self, purpose: str, count: int) -> int:
        return await self._inner.reserve(purpose, count)

    async def tally(self, name: str) -> int:
        return await self._inner.tally(name)

    async def admit(self, gate: Gate) -> Admission:
        return _admission(await self._inner.admit(gate))

    async def read_task(self, gate: Gate, task_id: str) -> tuple[Admission, Task | None]:
        admission, task = await self._inner.read_task(gate, task_id)
        return _admission(admission), _task(task)

    async def insert_task(
        self, gate: Gate, task: Task, balance: float | None, timers: Sequence[Timer]
    ) -> tuple[Admission, Insert]:
        admission, outcome = await self._inner.insert_task(gate, _task(task), balance, _timers(timers))  # type: ignore[arg-type]
        return _admission(admission), outcome

    async def task(self, task_id: str) -> Task | None:
        return _task(await self._inner.task(task_id))

    async def task_by_media(self, token: str) -> Task | None:
        return _task(await self._inner.task_by_media(token))

    async def swap_task(self, old: Task, new: Task) -> bool:
        return await self._inner.swap_task(_task(old), _task(new))  # type: ignore[arg-type]

    async def tasks(self, provider: str | None, after: int, limit: int) -> list[Task]:
        return [_task(t) for t in await self._inner.tasks(provider, after, limit)]  # type: ignore[misc]

    async def count_tasks(self) -> int:
        return await self._inner.count_tasks()

    async def prune(self, created_by: float) -> int:
        return await self._inner.prune(created_by)

    async def spent(self, key: str, provider: str) -> float:
        return await self._inner.spent(key, provider)

    async def add_rule(self, rule: FaultRule) -> None:
        await self._inner.add_rule(_rule(rule))  # type: ignore[arg-type]

    async def rules(self) -> list[FaultRule]:
        return [_rule(r) for r in await self._inner.rules()]  # type: ignore[misc]

    async def clear_rules(self) -> None:
        await self._inner.clear_rules()

    def record(self, fields: JournalFields) -> None:
        self._inner.record(fields_of(codec.decode_entry(codec.encode_entry(entry_of(fields)))))

    async def journal(self, query: JournalQuery) -> list[JournalEntry]:
        return [codec.decode_entry(codec.encode_entry(e)) for e in await self._inner.journal(query)]

    async def put_delivery(self, delivery: Delivery, timers: Sequence[Timer]) -> None:
        await self._inner.put_delivery(_delivery(delivery), _timers(timers))  # type: ignore[arg-type]

    async def delivery(self, delivery_id: str) -> Delivery | None:
        return _delivery(await self._inner.delivery(delivery_id))

    async def deliveries(self) -> list[Delivery]:
        return [_delivery(d) for d in await self._inner.deliveries()]  # type: ignore[misc]

    async def swap_delivery(
        self, old: Delivery, new: Delivery, timers: Sequence[Timer], cancel: Sequence[Timer] = ()
    ) -> bool:
        return await self._inner.swap_delivery(
            _delivery(old),  # type: ignore[arg-type]
            _delivery(new),  # type: ignore[arg-type]
            _timers(timers),
            _timers(cancel),
        )

    async def schedule(self, timers: Sequence[Timer]) -> None:
        await self._inner.schedule(_timers(timers))

    async def next_due(self) -> float | None:
        return await self._inner.next_due()

    async def claim_due(self, now: float, limit: int) -> list[Timer]:
        return _timers(await self._inner.claim_due(now, limit))

    async def finish(self, timers: Sequence[Timer]) -> None:
        await self._inner.finish(_timers(timers))
