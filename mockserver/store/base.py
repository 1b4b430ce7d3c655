"""The Store protocol: all of one fake's state, behind verbs that are each atomic, so that
several processes can share one store.

Store layer: imports the engine's records only. Keys appear only as fingerprints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from mockserver.engine.clock import ClockState
from mockserver.engine.deliveries import Delivery
from mockserver.engine.faults import FaultRule
from mockserver.engine.gate import Admission, Gate, Insert
from mockserver.engine.journal import JournalEntry, JournalFields, JournalQuery
from mockserver.engine.tasks import Task
from mockserver.engine.timers import Timer


class Store(Protocol):
    # Real seconds between the `beat()` calls a store shared with other processes needs to
    # count this one alive; None for a store no other process shares.
    heartbeat: float | None

    async def open(self) -> None:
        """Connect; a store shared with other processes keeps what they stored."""

    async def close(self) -> None:
        """Disconnect; timers this process claimed and did not finish go back to the others."""

    async def join(self) -> int:
        """A number for this process, never handed to another process sharing the store
        (a reset keeps them)."""

    async def beat(self) -> None:
        """Tell the processes sharing the store that this one is alive."""

    async def reset(self, clock: ClockState) -> None:
        """Forget everything, and start again from `clock`."""

    async def forget(self, key: str) -> int:
        """Forget one key's tasks (their media and deliveries), its fault rules, journal entries,
        spending and rate-limit windows; the number of tasks forgotten. Other keys keep theirs."""

    # -- the clock's mode, speed and position ------------------------------------------

    async def load_clock(self) -> ClockState | None: ...

    async def save_clock(self, state: ClockState) -> ClockState:
        """Store `state` if its version is newer than the stored one's (or none is stored);
        returns the one that stands."""

    # -- ids ---------------------------------------------------------------------------

    async def reserve(self, purpose: str, count: int) -> int:
        """The first of `count` fresh sequence numbers for `purpose` (numbers start at 1)."""

    async def tally(self, name: str) -> int:
        """One more on the counter `name`, which a reset keeps (the upstreams' create budget:
        a run's spending); the new count."""

    # -- requests and tasks ------------------------------------------------------------

    async def admit(self, gate: Gate) -> Admission:
        """Fault rules, then the rate limit; no verb."""

    async def read_task(self, gate: Gate, task_id: str) -> tuple[Admission, Task | None]:
        """`admit`, then the task if admitted."""

    async def insert_task(
        self, gate: Gate, task: Task, balance: float | None, timers: Sequence[Timer]
    ) -> tuple[Admission, Insert]:
        """`admit`, then charge `task.credits` to the owner's account at the task's provider
        (within `balance`, None meaning unlimited), store the task and schedule `timers`, all
        or nothing."""

    async def task(self, task_id: str) -> Task | None: ...

    async def task_by_media(self, token: str) -> Task | None: ...

    async def swap_task(self, old: Task, new: Task) -> bool:
        """Replace `old` by `new` if `old` is what is stored; False otherwise."""

    async def tasks(self, provider: str | None, after: int, limit: int) -> list[Task]:
        """Tasks in creation order whose number is above `after`."""

    async def count_tasks(self) -> int: ...

    async def prune(self, created_by: float) -> int:
        """Forget tasks (and their media and deliveries) created at or before this fake time."""

    async def spent(self, key: str, provider: str) -> float:
        """Credits the key has spent at a provider (in its unit)."""

    # -- fault rules -------------------------------------------------------------------

    async def add_rule(self, rule: FaultRule) -> None: ...

    async def rules(self) -> list[FaultRule]: ...

    async def clear_rules(self) -> None: ...

    # -- the journal -------------------------------------------------------------------

    def record(self, fields: JournalFields) -> None:
        """Append the entry these fields make, numbered (`seq`) by the store; a shared store may write it a
        moment later, but before this process next reads the journal. Not a coroutine: every
        request records one, and no store waits for anything to take it (called on the loop)."""

    async def journal(self, query: JournalQuery) -> list[JournalEntry]:
        """The entries `query` matches, oldest first."""

    # -- callback deliveries -----------------------------------------------------------

    async def put_delivery(self, delivery: Delivery, timers: Sequence[Timer]) -> None:
        """Store a new delivery and schedule `timers`, together."""

    async def delivery(self, delivery_id: str) -> Delivery | None: ...

    async def deliveries(self) -> list[Delivery]: ...

    async def swap_delivery(
        self, old: Delivery, new: Delivery, timers: Sequence[Timer], cancel: Sequence[Timer] = ()
    ) -> bool:
        """Replace `old` by `new`, schedule `timers` and drop the waiting timers in `cancel` (an
        attempt's deadline, once it has its answer), if `old` is what is stored; else False."""

    # -- timers on fake time -----------------------------------------------------------

    async def schedule(self, timers: Sequence[Timer]) -> None:
        """Add timers; one equal to a timer already waiting may be merged with it."""

    async def next_due(self) -> float | None: ...

    async def claim_due(self, now: float, limit: int) -> list[Timer]:
        """Claim up to `limit` timers due by `now`, earliest first. A claim is this process's
        until it calls `finish`; a claim held by a process that stopped beating (or closed)
        goes back to be claimed again, so each timer runs once unless its process dies."""

    async def finish(self, timers: Sequence[Timer]) -> None:
        """Drop claimed timers whose effect has run."""
