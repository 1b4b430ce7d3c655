"""The drift report: what the exchanges with a provider's real service show that the project's
spec and the fake's lifecycle do not, grouped per provider, operation and kind, each group with
a count and its first example. The same analysis runs live (every proxied exchange, `GET
/__mock/drift`, a summary at shutdown) and offline (a recording: `contracts drift --recording`).

Upstream layer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockserver.engine import TaskStatus
from mockserver.upstream import checks
from mockserver.upstream.har import CALLBACK, REQUEST, Exchange, iso
from mockserver.upstream.lifecycle import Profile, Sighting, Trail, judge
from mockserver.upstream.shape import Shape

DRIFT, INFO = "drift", "info"
DETAIL_CAP = 240  # characters of an example's detail (a schema message may quote a whole body)


@dataclass(frozen=True)
class Kind:
    """One kind of finding: its name in reports, whether it is drift or only worth knowing."""

    name: str
    severity: str
    description: str


KINDS = {
    kind.name: kind
    for kind in (
        Kind("undocumented_status", DRIFT, "a status the operation does not document"),
        Kind("missing_field", DRIFT, "a body the schema refuses: a required field is missing"),
        Kind("wrong_type", DRIFT, "a body the schema refuses: a field of another type"),
        Kind("new_status_word", DRIFT, "a status word the spec does not list"),
        Kind("enum", DRIFT, "another value outside an enum"),
        Kind("schema", DRIFT, "a body the schema refuses by another rule"),
        Kind("error_envelope", DRIFT, "an error body outside the provider's documented envelopes"),
        Kind("content_type", DRIFT, "an answer that is not the JSON the spec documents"),
        Kind("request_accepted", DRIFT, "a request the spec refuses, accepted by the upstream"),
        Kind("status_order", DRIFT, "lifecycle: a status order the fake's state machine never produces"),
        Kind("progress_down", DRIFT, "lifecycle: progress going down"),
        Kind("queue_time", DRIFT, "lifecycle: a queue time far outside the fake's (queue_seconds)"),
        Kind("run_time", DRIFT, "lifecycle: a run time far outside the fake's (run_seconds)"),
        Kind("callback_body", DRIFT, "lifecycle: a callback body that differs from the task's query body"),
        Kind("callback_early", DRIFT, "lifecycle: a callback before the task query shows the end"),
        Kind("unnamed_field", INFO, "a field the spec does not name"),
        Kind("request_refused", INFO, "a request the spec accepts, refused by the upstream as invalid"),
    )
}


@dataclass(frozen=True)
class Example:
    detail: str
    task: str | None = None
    started: float | None = None
    status: int | None = None

    def view(self) -> dict[str, Any]:
        return {
            "detail": self.detail,
            "task": self.task,
            "started": None if self.started is None else iso(self.started),
            "status": self.status,
        }


@dataclass
class Group:
    provider: str
    operation: str
    kind: Kind
    count: int
    first: Example

    def view(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "operation": self.operation,
            "kind": self.kind.name,
            "severity": self.kind.severity,
            "description": self.kind.description,
            "count": self.count,
            "first": self.first.view(),
        }


@dataclass
class Report:
    exchanges: int
    tasks: int
    callbacks: int
    groups: list[Group] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    operations: list[tuple[str, str]] = field(default_factory=list)  # (provider, operation) seen

    @property
    def drift(self) -> bool:
        return any(group.kind.severity == DRIFT for group in self.groups)

    def view(self) -> dict[str, Any]:
        return {
            "drift": self.drift,
            "exchanges": self.exchanges,
            "tasks": self.tasks,
            "callbacks": self.callbacks,
            "findings": [group.view() for group in self.groups],
            "notes": list(self.notes),
        }

    def text(self) -> str:
        head = f"{self.exchanges} exchanges, {self.tasks} tasks, {self.callbacks} callbacks"
        drifted = sum(g.count for g in self.groups if g.kind.severity == DRIFT)
        lines = [f"drift report: {head}: " + (f"drift ({drifted} findings)" if self.drift else "no drift")]
        for group in self.groups:
            where = f"{group.provider} {group.operation}"
            lines.append(
                f"  {group.kind.severity:5}  {where}  {group.kind.name} x{group.count}: {group.first.detail}"
            )
        lines += [f"  note   {note}" for note in self.notes]
        return "\n".join(lines)


class Findings:
    """Findings grouped by (provider, operation, kind): a count and the earliest example."""

    def __init__(self, groups: Mapping[tuple[str, str, str], Group] | None = None) -> None:
        self._groups = {key: replace(group) for key, group in (groups or {}).items()}

    def add(self, provider: str, operation: str, found: Iterable[tuple[str, str]], example: Example) -> None:
        for kind, detail in found:
            shown = detail if len(detail) <= DETAIL_CAP else detail[: DETAIL_CAP - 3] + "..."
            seen = replace(example, detail=shown)
            group = self._groups.get((provider, operation, kind))
            if group is None:
                self._groups[(provider, operation, kind)] = Group(provider, operation, KINDS[kind], 1, seen)
                continue
            group.count += 1
            if seen.started is not None and (
                group.first.started is None or seen.started < group.first.started
            ):
                group.first = seen

    def copy(self) -> Findings:
        return Findings(self._groups)

    def groups(self) -> list[Group]:
        """Drift first, then what is only worth knowing; each by provider, operation and kind."""
        return sorted(
            self._groups.values(),
            key=lambda g: (g.kind.severity != DRIFT, g.provider, g.operation, g.kind.name),
        )


class Analysis:
    """Findings grouped as exchanges are added (in any order), and the tasks' trails."""

    def __init__(self, shapes: Mapping[str, Shape], profile: Profile) -> None:
        self.shapes, self.profile = shapes, profile
        self.exchanges = self.callbacks = 0
        self.findings = Findings()
        # One trail per task seen; proxied tasks cost money, and the create budget bounds them.
        self._trails: dict[tuple[str, str], Trail] = {}
        self._unchecked: set[str] = set()
        self._operations: set[tuple[str, str]] = set()

    def add(self, exchange: Exchange) -> None:
        shape = self.shapes.get(exchange.provider)
        if shape is None:
            self._unchecked.add(exchange.provider)
            return
        self.exchanges += 1
        example = Example("", exchange.task, exchange.started, exchange.status)
        if exchange.kind == CALLBACK:
            self.callbacks += 1
            where = shape.callback_operation or "callback"
            self._operations.add((shape.slug, where))
            self.findings.add(shape.slug, where, checks.check_callback(shape, exchange), example)
        op = shape.operation(exchange.operation)
        if exchange.kind == REQUEST and op is not None:
            self._operations.add((shape.slug, op.id))
            self.findings.add(shape.slug, op.id, checks.check_request(op, exchange), example)
            self.findings.add(shape.slug, op.id, checks.check_answer(shape, op, exchange), example)
        self._follow(shape, exchange)

    def _follow(self, shape: Shape, exchange: Exchange) -> None:
        """A task's sighting: a create or task query answered 2xx, or a callback."""
        provider, task = shape.provider, exchange.task
        created = exchange.operation == provider.create_operation
        queried = exchange.operation == provider.retrieve_operation
        answered = exchange.kind == REQUEST and (created or queried) and 200 <= exchange.status < 300
        if task is None or not (answered or exchange.kind == CALLBACK):
            return
        trail = self._trails.get((shape.slug, task))
        if trail is None:
            trail = self._trails[(shape.slug, task)] = Trail(shape.slug, task)
        if exchange.kind == CALLBACK:
            trail.callbacks.append((exchange.started, exchange.request_body))
            return
        if created:
            trail.created = exchange.started
            trail.asked_callback = shape.callback_url(exchange.request_body) is not None
        body = exchange.response_body
        status, word = shape.status(body), shape.word(body)
        failure = shape.failure(body) if status is TaskStatus.FAILED else None
        sighting = Sighting(
            exchange.started,
            word if isinstance(word, str) else None,
            status,
            shape.progress(body),
            failure,
            queried,
        )
        trail.see(sighting, body)

    @property
    def trails(self) -> list[Trail]:
        return list(self._trails.values())

    def report(self, unobserved: Mapping[str, int] | None = None) -> Report:
        """The grouped findings so far, the lifecycle ones included; `unobserved`: why callbacks
        were not observed, by reason (the live proxy knows; a recording does not say)."""
        findings = self.findings.copy()
        for trail in self._trails.values():
            shape = self.shapes[trail.provider]
            for operation, kind, detail in judge(trail, shape, self.profile):
                findings.add(
                    trail.provider, operation, [(kind, detail)], Example(detail, trail.task, trail.created)
                )
        report = Report(self.exchanges, len(self._trails), self.callbacks, findings.groups())
        report.operations = sorted(self._operations | {(g.provider, g.operation) for g in report.groups})
        report.notes = self._notes(unobserved or {})
        return report

    def _notes(self, unobserved: Mapping[str, int]) -> list[str]:
        notes = [
            f"callbacks not observed for {n} create(s): {reason}" for reason, n in sorted(unobserved.items())
        ]
        waiting = [t for t in self._trails.values() if t.asked_callback and not t.callbacks]
        if waiting:
            ended = sum(1 for t in waiting if t.outcome() is not None)
            notes.append(
                f"{len(waiting)} task(s) asked for a callback and none was observed ({ended} seen ended)"
            )
        if self._unchecked:
            notes.append(f"exchanges of providers not checked here: {', '.join(sorted(self._unchecked))}")
        return notes
