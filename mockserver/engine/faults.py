"""Faults, in one grammar for every trigger (the `X-Mock-Fault` header, the `[mock:fault=...]`
prompt directive and control-plane rules), and the plans a create can carry: a task failure
(`CODE;after=SECONDS`) and callback chaos (`drop`, `duplicate`, `delay=SECONDS`).

    503              answer that status now
    delay=1.5        answer normally, 1.5 real seconds late
    reset            close the connection, nothing done, no answer
    lost             do the work (a create is created and billed), then close with no answer
    truncate         do the work, send part of the answer, then close
    503;delay=1      combinations: a status with a delay or truncate; one connection fault

Engine layer: decides *what* fails; the web layer renders bodies and drops connections.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, replace

from mockserver.engine.tasks import CallbackPlan, Failure

RESET, LOST, TRUNCATE = "reset", "lost", "truncate"
DROPS = (RESET, LOST, TRUNCATE)
_SECONDS = re.compile(r"^(delay|after)=([0-9]{1,6}(\.[0-9]{1,6})?)$")  # ASCII digits only


class FaultSyntax(ValueError):
    """A trigger's value is not in the grammar; the message says what is expected."""


@dataclass(frozen=True, slots=True)
class Fault:
    status: int | None = None  # answer this error status instead of the operation's answer
    delay: float = 0.0  # real seconds before the answer, after the work
    drop: str | None = None  # reset, lost or truncate

    @property
    def blocks(self) -> bool:
        """The operation's work does not run: an error status, or a reset."""
        return self.status is not None or self.drop == RESET

    def __str__(self) -> str:
        parts = [str(self.status)] if self.status is not None else []
        parts += [f"delay={self.delay:g}"] if self.delay else []
        parts += [self.drop] if self.drop else []
        return ";".join(parts)


def parse_status(raw: str) -> int | None:
    """A status written in ASCII digits ("503"), else None: `'²'.isdigit()` is true in Python,
    and `int('٤٠٣')` is 403, neither of which a client means."""
    raw = raw.strip()
    if raw.isascii() and raw.isdigit() and len(raw) == 3:
        return int(raw)
    return None


def _seconds(part: str, word: str, most: float) -> float | None:
    match = _SECONDS.match(part)
    if match is None or match.group(1) != word:
        return None
    seconds = float(match.group(2))
    if not math.isfinite(seconds) or seconds > most:
        raise FaultSyntax(f"{word} is at most {most:g} seconds")
    return seconds


def parse_fault(raw: str, max_delay: float = 60.0) -> Fault:
    status, delay, drop = None, 0.0, None
    parts = [part.strip() for part in raw.split(";") if part.strip()]
    if not parts:
        raise FaultSyntax("empty: expected a status, delay=SECONDS, reset, lost or truncate")
    for part in parts:
        seconds = _seconds(part, "delay", max_delay)
        if parse_status(part) is not None and status is None:
            status = parse_status(part)
        elif seconds is not None:
            delay = seconds
        elif part in DROPS and drop is None:
            drop = part
        else:
            shown = part if len(part) <= 20 else part[:20] + "..."
            raise FaultSyntax(
                f"{shown!r}: expected one status, delay=SECONDS, and one of reset, lost, truncate"
            )
    if status is not None and drop in (RESET, LOST):
        raise FaultSyntax(f"a status answers; {drop} does not: they cannot be combined")
    return Fault(status, delay, drop)


def parse_failure(raw: str) -> Failure:
    """`CODE` (fails when it would have completed) or `CODE;after=SECONDS` (fake seconds after
    it was created; 0 fails at once, while queued)."""
    code, _, rest = raw.strip().partition(";")
    after = None
    if rest.strip():
        after = _seconds(rest.strip(), "after", 10**6)
        if after is None:
            raise FaultSyntax("expected CODE or CODE;after=SECONDS")
    if not code.strip():
        raise FaultSyntax("expected CODE or CODE;after=SECONDS")
    return Failure(code.strip(), after=after)


def parse_callback(raw: str, max_delay: float = 10**6) -> CallbackPlan:
    """`drop` (never sent), `duplicate` (sent twice), `delay=SECONDS` (fake seconds late), or
    `duplicate;delay=SECONDS`."""
    drop, copies, delay = False, 1, 0.0
    for part in (p.strip() for p in raw.split(";") if p.strip()):
        seconds = _seconds(part, "delay", max_delay)
        if part == "drop":
            drop = True
        elif part == "duplicate":
            copies = 2
        elif seconds is not None:
            delay = seconds
        else:
            raise FaultSyntax("expected drop, duplicate or delay=SECONDS")
    if drop and (copies > 1 or delay):
        raise FaultSyntax("drop sends nothing: it cannot be combined")
    return CallbackPlan(drop, copies, delay)


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Armed through the control plane: the next `remaining` requests matching `operation`
    (any provider operation when None) and `key` meet `fault`, and a matching create carries
    `fail` and `callback`. With a `probability` below 1 a matching request meets it only by a
    draw from the fake's seed, so a chaos run replays the same."""

    id: str
    operation: str | None
    remaining: int
    key: str | None = None  # fingerprint of the only key it applies to
    fault: Fault | None = None
    fail: Failure | None = None
    callback: CallbackPlan | None = None
    probability: float = 1.0
    matched: int = 0  # matching requests seen so far: the position in its draws
    retry_after: int | None = None

    def matches(self, operation: str, key: str | None) -> bool:
        return (self.operation is None or self.operation == operation) and (
            self.key is None or self.key == key
        )

    @property
    def blocks(self) -> bool:
        return self.fault is not None and self.fault.blocks


def chance(seed: int, rule_id: str, draw: int) -> float:
    """A rule's `draw`-th number in [0, 1): the same for a seed in every store (the Redis
    store's Lua computes it the same way, with SHA-1)."""
    digest = hashlib.sha1(f"{seed}:{rule_id}:{draw}".encode()).hexdigest()
    return int(digest[:8], 16) / 2**32


def take(
    rules: list[FaultRule], operation: str, key: str | None, seed: int
) -> tuple[FaultRule | None, list[FaultRule]]:
    """The first rule that fires for this request, and the rules as they stand after it: every
    matching rule counts the request as a draw, and the one that fires spends a use."""
    fired, kept = None, []
    for rule in rules:
        if fired is not None or not rule.matches(operation, key):
            kept.append(rule)
            continue
        hit = rule.probability >= 1 or chance(seed, rule.id, rule.matched) < rule.probability
        seen = replace(rule, matched=rule.matched + 1)
        if hit:
            fired = seen
            if rule.remaining > 1:
                kept.append(replace(seen, remaining=rule.remaining - 1))
        else:
            kept.append(seen)
    return fired, kept
