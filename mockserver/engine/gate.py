"""What every provider request passes through before its verb, in one step with it: the fault
rules and the rate limit. A store checks both and runs the verb atomically, so a shared
store needs one round trip per request.

Engine layer.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import NamedTuple

from mockserver.engine.clock import ClockState
from mockserver.engine.faults import FaultRule


@dataclass(slots=True)
class Gate:
    """One request's pass through the gate (a value: made on every request, so a slots class,
    whose positional construction costs a third of a named tuple's)."""

    operation: str
    key: str | None  # fingerprint of the bearer key
    limited: bool  # counts against the rate limit (an accepted key, with a limit set)
    per_minute: int
    now: float
    clock_version: int  # the caller's clock; a store that holds a newer one says so
    seed: int  # the fake's seed: rules that fire by chance draw from it


class Admission(NamedTuple):
    rule: FaultRule | None = None  # a fault rule fired (the verb ran unless the rule blocks)
    wait: float | None = None  # the rate limit refused: fake seconds until its window resets
    clock: ClockState | None = None  # the caller's clock was stale (nothing was done): use this

    @property
    def admitted(self) -> bool:
        """The verb ran: nothing refused it (a rule that fired may still ride along)."""
        return self.wait is None and self.clock is None and (self.rule is None or not self.rule.blocks)


ADMITTED = Admission()


class Insert(enum.Enum):
    """What became of a create once the gate admitted it."""

    DONE = "done"
    REFUSED = "refused"  # the gate refused (see the Admission): nothing was stored
    NO_CREDITS = "no_credits"  # the key's balance cannot cover the task: nothing was stored
    TAKEN = "taken"  # the id is in use (a stale block of numbers): nothing was stored
