"""Fault kinds, one record each: what a test can make go wrong, in one grammar for every trigger.

Three triggers share the kinds: a request header (`X-Mock-Fault`, `X-Mock-Fail`,
`X-Mock-Callback`), a prompt directive (`[mock:fault=...]`, ...) and a control-plane rule
(its `fault`, `fail` and `callback` fields). A trigger's value is `;`-separated parts, each
read by one kind of that trigger:

    fault     503   delay=1.5   reset   lost   truncate      (the request's answer)
    fail      CODE   stall   after=SECONDS                   (the task a create makes)
    callback  drop   duplicate   delay=SECONDS   early=SECONDS   (that task's callback)

A kind's record holds its grammar, what a client sees, and what it does to a connection (a
`Cut`: read by the server, the in-process transports, the journal and the verdicts). Adding a
kind is one record here (and, for a new effect on a task, its place in `tasks.py`).

Engine layer: decides *what* fails; the web layer renders bodies and drops connections.
"""

from __future__ import annotations

import enum
import hashlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.engine.tasks import CallbackPlan, Failure, Plan, Stall

_SECONDS = r"[0-9]{1,6}(?:\.[0-9]{1,6})?"  # ASCII digits only: '²'.isdigit() is true in Python
MAX_PLAN_SECONDS = 10**6  # fake seconds a failure, stall or callback plan may name


class FaultSyntax(ValueError):
    """A trigger's value is not in the grammar; the message says what is expected."""


class Trigger(enum.Enum):
    """What a kind acts on, and the name its header, directive and rule field share."""

    FAULT = "fault"  # the request's answer
    FAIL = "fail"  # the task a create makes
    CALLBACK = "callback"  # that task's callback

    # Members are singletons: hash them by identity (Enum's own __hash__ is a Python function).
    __hash__ = object.__hash__


@dataclass(frozen=True, slots=True)
class Cut:
    """What a connection fault does to the connection."""

    work_done: bool  # the operation's work runs first (a create is created and billed)
    sends_half: bool  # the answer's head and half its body leave before the close
    reset: bool  # a reset (RST, nothing more flushed) rather than an orderly close
    creates_only: bool = False  # only an operation that creates a task can meet it


@dataclass(frozen=True, slots=True)
class Fault:
    """What a request meets: an error status, a delay, and at most one connection cut (the
    name of its kind)."""

    status: int | None = None  # answer this error status instead of the operation's answer
    delay: float = 0.0  # real seconds before the answer, after the work
    drop: str | None = None  # reset, lost or truncate

    @property
    def cut(self) -> Cut | None:
        return None if self.drop is None else KINDS[self.drop].cut

    @property
    def blocks(self) -> bool:
        """The operation's work does not run: an error status, or a cut before the work."""
        cut = self.cut
        return self.status is not None or (cut is not None and not cut.work_done)

    @property
    def answers(self) -> bool:
        """Some answer reaches the client (whole, or cut short)."""
        cut = self.cut
        return cut is None or cut.sends_half

    def __str__(self) -> str:
        return text(Trigger.FAULT, self)


@dataclass(frozen=True, slots=True)
class Kind:
    """One fault kind. `read` takes a part of a trigger's value and returns what it carries (None:
    the part is not of this kind); `apply` adds it to the trigger's value so far; `show` gives
    the part back from a value (None: the value has none of this kind)."""

    name: str
    trigger: Trigger
    grammar: str  # as a client writes it
    meaning: str  # what the client sees
    read: Callable[[str, float], Any]
    apply: Callable[[Any, Any], Any]
    show: Callable[[Any], str | None]
    cut: Cut | None = None
    excludes: frozenset[str] = field(default=frozenset())  # kinds it cannot be combined with


def _word(word: str) -> Callable[[str, float], bool | None]:
    return lambda part, _: True if part == word else None


def _seconds(word: str) -> Callable[[str, float], float | None]:
    pattern = re.compile(rf"^{word}=({_SECONDS})$")

    def read(part: str, most: float) -> float | None:
        match = pattern.match(part)
        if match is None:
            return None
        seconds = float(match.group(1))
        if not math.isfinite(seconds) or seconds > most:
            raise FaultSyntax(f"{word} is at most {most:g} seconds")
        return seconds

    return read


def parse_status(raw: str) -> int | None:
    """A status written in ASCII digits ("503"), else None: `int('٤٠٣')` is 403 in Python,
    which no client means."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) == 3 else None


def _code(part: str, _: float) -> str | None:
    """Any word that is not `name=value` (the provider judges whether it is one of its codes)."""
    return None if "=" in part else part


def _drop(name: str, cut: Cut, meaning: str, excludes: frozenset[str]) -> Kind:
    return Kind(
        name,
        Trigger.FAULT,
        name,
        meaning,
        _word(name),
        lambda fault, _: replace(fault, drop=name),
        lambda fault: name if fault.drop == name else None,
        cut=cut,
        excludes=excludes,
    )


def _after(plan: Plan, seconds: float) -> Plan:
    return replace(plan, after=seconds)


def _copies(plan: CallbackPlan) -> str | None:
    return "duplicate" if plan.copies > 1 else None


_CUTS = frozenset({"reset", "lost", "truncate"})
_FAULT_KINDS = (
    Kind(
        "status",
        Trigger.FAULT,
        "STATUS",
        "the provider's own error body for that status (one the operation documents), now; "
        "nothing is done (a 429 carries Retry-After)",
        lambda part, _: parse_status(part),
        lambda fault, status: replace(fault, status=status),
        lambda fault: None if fault.status is None else str(fault.status),
        excludes=frozenset({"reset", "lost"}),
    ),
    Kind(
        "delay",
        Trigger.FAULT,
        "delay=SECONDS",
        "the answer, that many real seconds late (its timeout is real)",
        _seconds("delay"),
        lambda fault, seconds: replace(fault, delay=seconds),
        lambda fault: f"delay={fault.delay:g}" if fault.delay else None,
    ),
    _drop(
        "reset",
        Cut(work_done=False, sends_half=False, reset=True),
        "the connection reset, no answer; nothing is done",
        _CUTS | {"status"},
    ),
    _drop(
        "lost",
        Cut(work_done=True, sends_half=False, reset=False, creates_only=True),
        "creates only: the task is created and billed, then the connection closes with no answer",
        _CUTS | {"status"},
    ),
    _drop(
        "truncate",
        Cut(work_done=True, sends_half=True, reset=False),
        "the work is done, half the answer is sent, then the connection closes",
        _CUTS,
    ),
)
_FAIL_KINDS = (
    Kind(
        "stall",
        Trigger.FAIL,
        "stall",
        "the task stops where it stands (when it would have completed, at progress 99, or "
        "`after` fake seconds after creation) and never ends until the control plane ends it",
        _word("stall"),
        lambda plan, _: Stall(after=plan.after),
        lambda plan: "stall" if isinstance(plan, Stall) else None,
        excludes=frozenset({"code"}),
    ),
    Kind(
        "code",
        Trigger.FAIL,
        "CODE",
        "the task fails with that business code when it would have completed (progress 99)",
        _code,
        lambda plan, code: Failure(code, after=plan.after),
        lambda plan: plan.code if isinstance(plan, Failure) else None,
        excludes=frozenset({"stall"}),
    ),
    Kind(
        "after",
        Trigger.FAIL,
        "after=SECONDS",
        "with CODE or stall: that many fake seconds after creation instead (0: at once, queued, progress 0)",
        _seconds("after"),
        _after,
        lambda plan: None if plan.after is None else f"after={plan.after:g}",
    ),
)
_CALLBACK_KINDS = (
    Kind(
        "drop",
        Trigger.CALLBACK,
        "drop",
        "the callback is never sent (its delivery shows `dropped`)",
        _word("drop"),
        lambda plan, _: replace(plan, drop=True),
        lambda plan: "drop" if plan.drop else None,
        excludes=frozenset({"duplicate", "late", "early"}),
    ),
    Kind(
        "duplicate",
        Trigger.CALLBACK,
        "duplicate",
        "the callback is sent twice",
        _word("duplicate"),
        lambda plan, _: replace(plan, copies=2),
        _copies,
        excludes=frozenset({"drop"}),
    ),
    Kind(
        "late",
        Trigger.CALLBACK,
        "delay=SECONDS",
        "the callback is sent that many fake seconds after the task ends",
        _seconds("delay"),
        lambda plan, seconds: replace(plan, delay=seconds),
        lambda plan: f"delay={plan.delay:g}" if plan.delay else None,
        excludes=frozenset({"drop", "early"}),
    ),
    Kind(
        "early",
        Trigger.CALLBACK,
        "early=SECONDS",
        "the callback (with the finished task's body) is sent that many fake seconds before the "
        "task query shows the end: the race where a webhook and a poll both claim a finished job",
        _seconds("early"),
        lambda plan, seconds: replace(plan, early=seconds),
        lambda plan: f"early={plan.early:g}" if plan.early else None,
        excludes=frozenset({"drop", "late"}),
    ),
)
KINDS: dict[str, Kind] = {kind.name: kind for kind in (*_FAULT_KINDS, *_FAIL_KINDS, *_CALLBACK_KINDS)}
_EMPTY: dict[Trigger, Any] = {
    Trigger.FAULT: Fault(),
    Trigger.FAIL: Failure(""),  # a code or stall must come
    Trigger.CALLBACK: CallbackPlan(),
}


def kinds_of(trigger: Trigger) -> tuple[Kind, ...]:
    return tuple(kind for kind in KINDS.values() if kind.trigger is trigger)


def parse(trigger: Trigger, raw: str, max_delay: float = MAX_PLAN_SECONDS) -> Any:
    """A trigger's value (a `Fault`, a `Failure` or `Stall`, a `CallbackPlan`) from its text;
    `max_delay` caps a `delay=` (real seconds a request may be held)."""
    kinds, value, seen = kinds_of(trigger), _EMPTY[trigger], set[str]()
    grammars = [kind.grammar for kind in kinds]
    expected = ", ".join(grammars[:-1]) + " or " + grammars[-1]
    parts = [part.strip() for part in raw.split(";") if part.strip()]
    if not parts:
        raise FaultSyntax(f"empty: expected {expected}")
    for part in parts:
        found = [
            (kind, read) for kind in kinds if (read := kind.read(part, _most(kind, max_delay))) is not None
        ]
        if not found:
            shown = part if len(part) <= 20 else part[:20] + "..."
            raise FaultSyntax(f"{shown!r}: expected {expected}")
        kind, read = found[0]
        if kind.name in seen:
            raise FaultSyntax(f"{kind.grammar} is given twice")
        clash = seen & kind.excludes
        if clash:
            raise FaultSyntax(f"{kind.grammar} cannot be combined with {KINDS[min(clash)].grammar}")
        seen.add(kind.name)
        value = kind.apply(value, read)
    if trigger is Trigger.FAIL and not seen & {"code", "stall"}:
        raise FaultSyntax("expected CODE or stall, then optionally after=SECONDS")
    return value


def _most(kind: Kind, max_delay: float) -> float:
    return max_delay if kind.name == "delay" else MAX_PLAN_SECONDS


def text(trigger: Trigger, value: Any) -> str:
    """A trigger's value written back in its grammar (`parse` reads it back the same)."""
    return ";".join(part for kind in kinds_of(trigger) if (part := kind.show(value)) is not None)


def parse_fault(raw: str, max_delay: float = 60.0) -> Fault:
    fault: Fault = parse(Trigger.FAULT, raw, max_delay)
    return fault


def parse_plan(raw: str) -> Plan:
    """`CODE` or `stall`, each optionally `;after=SECONDS`."""
    plan: Plan = parse(Trigger.FAIL, raw)
    return plan


def parse_callback(raw: str) -> CallbackPlan:
    plan: CallbackPlan = parse(Trigger.CALLBACK, raw)
    return plan


def refusal(fault: Fault, documented: frozenset[int], creates: bool) -> str | None:
    """Why `fault` cannot be met by an operation documenting these statuses (None: it can)."""
    if fault.status is not None and (fault.status < 400 or fault.status not in documented):
        listed = ", ".join(str(s) for s in sorted(documented) if s >= 400)
        return f"{str(fault.status)!r} is not one of {listed}"
    cut = fault.cut
    if cut is not None and cut.creates_only and not creates:
        return f"{fault.drop} applies to creates only (a task made, its answer lost)"
    return None


@dataclass(frozen=True, slots=True)
class FaultRule:
    """Armed through the control plane: the next `remaining` requests matching `operation`
    (any provider operation when None) and `key` meet `fault`, and a matching create carries
    `plan` and `callback`. With a `probability` below 1 a matching request meets it only by a
    draw from the fake's seed, so a chaos run replays the same."""

    id: str
    operation: str | None
    remaining: int
    key: str | None = None  # fingerprint of the only key it applies to
    fault: Fault | None = None
    plan: Plan | None = None
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
    store's Lua computes it the same way, with SHA-1: tests/store compares them)."""
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
