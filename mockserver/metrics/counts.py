"""What this process counts, as prometheus-client families: provider requests (by provider,
operation and status) and their latency, callback attempts by outcome, faults fired by kind (the
fault kinds' records: `engine/faults.py`), credits spent by provider.

Metrics layer: prometheus-client and the engine's records. Requests come as the journal's
fields, a batch at a time; the rest as the engine's events.
"""

from __future__ import annotations

import functools
import math
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram

from mockserver.engine.faults import Trigger, kinds_of, parse_fault
from mockserver.engine.tasks import Task

# Seconds: a fake answers in well under a millisecond; a delay fault holds an answer for seconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
NONE = "none"  # a label for what is missing: no route matched, no answer was sent
# What a request's journal entry says of it, as counted: provider, operation, status, seconds, fault.
Request = tuple[str | None, str | None, int | None, float, str | None]


@functools.lru_cache(maxsize=256)
def fault_kinds(fault: str) -> tuple[str, ...]:
    """The kinds in a fault as the journal writes it (`503;delay=1.5`)."""
    try:
        parsed = parse_fault(fault, math.inf)
    except ValueError:
        return ()
    return tuple(kind.name for kind in kinds_of(Trigger.FAULT) if kind.show(parsed) is not None)


def plan_kinds(task: Task) -> list[tuple[str, str]]:
    """The (trigger, kind) pairs of a task's failure or stall plan and its callback plan."""
    found = []
    for trigger, value in ((Trigger.FAIL, task.plan), (Trigger.CALLBACK, task.callback_plan)):
        if value is not None:
            found += [(trigger.value, kind.name) for kind in kinds_of(trigger) if kind.show(value)]
    return found


class Counts:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "mockserver_requests",
            "Provider and result-file requests answered (status none: the connection was dropped)",
            ["provider", "operation", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "mockserver_request_duration_seconds",
            "Time to each answer, a delay fault's wait included",
            ["provider", "operation"],
            buckets=BUCKETS,
            registry=registry,
        )
        self.attempts = Counter(
            "mockserver_callback_attempts",
            "Callback attempts by outcome: success, http_error, redirect, timeout, connection_error, refused",
            ["outcome"],
            registry=registry,
        )
        self.faults = Counter(
            "mockserver_faults",
            "Faults fired, by trigger (fault, fail, callback) and kind (engine/faults.py KINDS)",
            ["trigger", "kind"],
            registry=registry,
        )
        self.credits = Counter(
            "mockserver_credits_spent",
            "Credits charged for created tasks, in each provider's own unit",
            ["provider"],
            registry=registry,
        )

    def add_requests(self, requests: Iterable[Request]) -> None:
        """A batch of answered requests: one increment per label set, not per request."""
        tally: Tally[tuple[str, str, str]] = Tally()
        faults: Tally[str] = Tally()
        for provider, operation, status, seconds, fault in requests:
            route = (provider or NONE, operation or NONE)
            tally[(*route, NONE if status is None else str(status))] += 1
            self.latency.labels(*route).observe(seconds)
            if fault:
                faults.update(fault_kinds(fault))
        for labels, count in tally.items():
            self.requests.labels(*labels).inc(count)
        for kind, count in faults.items():
            self.faults.labels(Trigger.FAULT.value, kind).inc(count)

    def add_task(self, task: Task) -> None:
        self.credits.labels(task.provider).inc(task.credits)
        for trigger, kind in plan_kinds(task):
            self.faults.labels(trigger, kind).inc()

    def add_attempt(self, outcome: str) -> None:
        self.attempts.labels(outcome).inc()
