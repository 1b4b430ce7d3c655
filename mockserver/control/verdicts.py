"""Verdicts on a client's behaviour, read from the journal (`GET /__mock/verdicts`): what a
provider's operators would hold against it, each finding with the journal entries that prove it.

Intervals are the longer of the fake-clock and the real-clock gap between two arrivals, so a
client that sleeps by advancing a manual clock, and one that sleeps for real, are judged alike.

Control layer: pure functions over journal entries; the handler gathers what they need.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any

from mockserver.engine.faults import parse_fault
from mockserver.engine.journal import JournalEntry
from mockserver.engine.tasks import TaskStatus

CREATE, RETRIEVE = "create", "retrieve"  # the roles an operation can play in a task's life
FINISHED = frozenset(status.value for status in TaskStatus if status.finished)
EPSILON = 1e-6


@dataclass(frozen=True, slots=True)
class Finding:
    summary: str
    evidence: tuple[JournalEntry, ...]

    def view(self) -> dict[str, Any]:
        return {"summary": self.summary, "evidence": [entry.to_dict() for entry in self.evidence]}


@dataclass(frozen=True, slots=True)
class Evidence:
    """What every check reads: the journal entries (oldest first) and what they mean."""

    entries: list[JournalEntry]
    roles: Mapping[str, str]  # operationId -> CREATE or RETRIEVE
    files: str  # the result files' API slug
    called_back: Callable[[str], bool]  # whether a task has a callback URL
    min_interval: float  # seconds a client waits between polls of an unfinished task


def elapsed(earlier: JournalEntry, later: JournalEntry) -> float:
    return max(later.time - earlier.time, later.wall - earlier.wall)


def _answered(entry: JournalEntry) -> bool:
    return entry.status is not None and 200 <= entry.status < 300


def _lost(entry: JournalEntry) -> bool:
    """The task was made but the client never got the whole answer (a cut after the work)."""
    if entry.fault is None:
        return False
    cut = parse_fault(entry.fault, max_delay=math.inf).cut
    return cut is not None and cut.work_done


def _polls(
    entries: Iterable[JournalEntry], roles: Mapping[str, str]
) -> dict[tuple[Any, ...], list[JournalEntry]]:
    polls: dict[tuple[Any, ...], list[JournalEntry]] = defaultdict(list)
    for entry in entries:
        if roles.get(entry.operation or "") == RETRIEVE and entry.task is not None:
            polls[entry.key, entry.task].append(entry)
    return polls


def poll_too_fast(seen: Evidence) -> list[Finding]:
    """One finding per task: each poll that came too soon after an unfinished answer."""
    found, min_interval = [], seen.min_interval
    for (_, task), polls in _polls(seen.entries, seen.roles).items():
        early = [
            (earlier, later)
            for earlier, later in pairwise(polls)
            if _answered(earlier)
            and earlier.task_status not in FINISHED
            and elapsed(earlier, later) < min_interval - EPSILON
        ]
        if early:
            shortest = min(elapsed(earlier, later) for earlier, later in early)
            evidence = tuple({entry.seq: entry for pair in early for entry in pair}.values())
            summary = (
                f"{task} polled {len(early)} time(s) sooner than {min_interval:g} s after an unfinished"
                f" answer (the shortest gap {shortest:.3g} s)"
            )
            found.append(Finding(summary, evidence))
    return found


def polled_after_end(seen: Evidence) -> list[Finding]:
    found = []
    for (_, task), polls in _polls(seen.entries, seen.roles).items():
        ends = [i for i, poll in enumerate(polls) if _answered(poll) and poll.task_status in FINISHED]
        if ends and (after := polls[ends[0] + 1 :]):
            end = polls[ends[0]]
            summary = f"{task} polled {len(after)} more time(s) after it was {end.task_status}"
            found.append(Finding(summary, (end, *after)))
    return found


def retry_after_ignored(seen: Evidence) -> list[Finding]:
    found, entries = [], seen.entries
    for index, refusal in enumerate(entries):
        wait = refusal.retry_after
        if refusal.status not in (429, 503) or wait is None:
            continue
        early = [
            later
            for later in entries[index + 1 :]
            if (later.key, later.method, later.path) == (refusal.key, refusal.method, refusal.path)
            and elapsed(refusal, later) < wait - EPSILON
        ]
        if early:
            summary = (
                f"{refusal.method} {refusal.path} sent again {elapsed(refusal, early[0]):.3g} s after "
                f"a {refusal.status} that said Retry-After: {wait}"
            )
            found.append(Finding(summary, (refusal, *early)))
    return found


def create_repeated_after_lost(seen: Evidence) -> list[Finding]:
    found, entries, roles = [], seen.entries, seen.roles
    for index, lost in enumerate(entries):
        if roles.get(lost.operation or "") != CREATE or not _lost(lost) or lost.task is None:
            continue
        again = [
            later
            for later in entries[index + 1 :]
            if (later.key, later.operation, later.body, later.body_bytes)
            == (lost.key, lost.operation, lost.body, lost.body_bytes)
        ]
        if again:
            summary = f"the create that made {lost.task} ({lost.fault}) was sent again {len(again)} time(s)"
            found.append(Finding(summary, (lost, *again)))
    return found


def key_sent_to_file_host(seen: Evidence) -> list[Finding]:
    return [
        Finding(f"{entry.method} {entry.path} carried the API key ({entry.key})", (entry,))
        for entry in seen.entries
        if entry.provider == seen.files and entry.key is not None
    ]


def task_never_followed(seen: Evidence) -> list[Finding]:
    roles, called_back = seen.roles, seen.called_back
    polled = set(_polls(seen.entries, roles))
    return [
        Finding(f"{entry.task} was created and never polled, and has no callback URL", (entry,))
        for entry in seen.entries
        if roles.get(entry.operation or "") == CREATE
        and entry.task is not None
        and _answered(entry)
        and not _lost(entry)
        and (entry.key, entry.task) not in polled
        and not called_back(entry.task)
    ]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check on a client: its name (as the control plane shows it), what it holds against
    the client, and the function that finds it in the journal."""

    name: str
    description: str
    check: Callable[[Evidence], list[Finding]]


VERDICTS = (
    Verdict(
        "poll_too_fast",
        "a task polled again sooner than the minimum interval after an unfinished answer",
        poll_too_fast,
    ),
    Verdict(
        "retry_after_ignored",
        "a request sent again before the Retry-After of its 429 or 503 had elapsed",
        retry_after_ignored,
    ),
    Verdict(
        "polled_after_end", "a task polled again after an answer that showed it finished", polled_after_end
    ),
    Verdict(
        "create_repeated_after_lost",
        "a create sent again after its answer was lost (the task existed)",
        create_repeated_after_lost,
    ),
    Verdict("key_sent_to_file_host", "the API key sent with a result-file download", key_sent_to_file_host),
    Verdict(
        "task_never_followed",
        "a task created, then neither polled nor given a callback URL",
        task_never_followed,
    ),
)


def judge(seen: Evidence) -> dict[Verdict, list[Finding]]:
    """Every verdict's findings (none: the check passed), entries taken in arrival order."""
    ordered = sorted(seen.entries, key=lambda entry: (entry.time, entry.wall, entry.seq))
    seen = replace(seen, entries=ordered)
    return {verdict: verdict.check(seen) for verdict in VERDICTS}


def report(
    findings: Mapping[Verdict, list[Finding]], key: str | None, count: int, min_interval: float
) -> dict[str, Any]:
    return {
        "key": key,
        "requests": count,
        "min_poll_interval": min_interval,
        "passed": not any(findings.values()),
        "verdicts": [
            {
                "check": verdict.name,
                "description": verdict.description,
                "passed": not found,
                "findings": [finding.view() for finding in found],
            }
            for verdict, found in findings.items()
        ],
    }
