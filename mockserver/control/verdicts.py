"""Verdicts on a client's behaviour, read from the journal (`GET /__mock/verdicts`): what a
provider's operators would hold against it, each finding with the journal entries that prove it.

Intervals are the longer of the fake-clock and the real-clock gap between two arrivals, so a
client that sleeps by advancing a manual clock, and one that sleeps for real, are judged alike.

Control layer: pure functions over journal entries; the handler gathers what they need.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from mockserver.engine.faults import LOST, TRUNCATE
from mockserver.engine.journal import JournalEntry
from mockserver.engine.tasks import TaskStatus

CREATE, RETRIEVE = "create", "retrieve"  # the roles an operation can play in a task's life
FINISHED = frozenset(status.value for status in TaskStatus if status.finished)
EPSILON = 1e-6

CHECKS = {
    "poll_too_fast": "a task polled again sooner than the minimum interval after an unfinished answer",
    "retry_after_ignored": "a request sent again before the Retry-After of its 429 or 503 had elapsed",
    "polled_after_end": "a task polled again after an answer that showed it finished",
    "create_repeated_after_lost": "a create sent again after its answer was lost (the task existed)",
    "key_sent_to_file_host": "the API key sent with a result-file download",
    "task_never_followed": "a task created, then neither polled nor given a callback URL",
}


@dataclass(frozen=True, slots=True)
class Finding:
    summary: str
    evidence: tuple[JournalEntry, ...]

    def view(self) -> dict[str, Any]:
        return {"summary": self.summary, "evidence": [entry.to_dict() for entry in self.evidence]}


def elapsed(earlier: JournalEntry, later: JournalEntry) -> float:
    return max(later.time - earlier.time, later.wall - earlier.wall)


def _answered(entry: JournalEntry) -> bool:
    return entry.status is not None and 200 <= entry.status < 300


def _lost(entry: JournalEntry) -> bool:
    """The task was made but the client never got the whole answer."""
    return entry.fault is not None and any(part in (LOST, TRUNCATE) for part in entry.fault.split(";"))


def _polls(
    entries: Iterable[JournalEntry], roles: Mapping[str, str]
) -> dict[tuple[Any, ...], list[JournalEntry]]:
    polls: dict[tuple[Any, ...], list[JournalEntry]] = defaultdict(list)
    for entry in entries:
        if roles.get(entry.operation or "") == RETRIEVE and entry.task is not None:
            polls[entry.key, entry.task].append(entry)
    return polls


def poll_too_fast(
    entries: list[JournalEntry], roles: Mapping[str, str], min_interval: float
) -> list[Finding]:
    """One finding per task: each poll that came too soon after an unfinished answer."""
    found = []
    for (_, task), polls in _polls(entries, roles).items():
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


def polled_after_end(entries: list[JournalEntry], roles: Mapping[str, str]) -> list[Finding]:
    found = []
    for (_, task), polls in _polls(entries, roles).items():
        ends = [i for i, poll in enumerate(polls) if _answered(poll) and poll.task_status in FINISHED]
        if ends and (after := polls[ends[0] + 1 :]):
            end = polls[ends[0]]
            summary = f"{task} polled {len(after)} more time(s) after it was {end.task_status}"
            found.append(Finding(summary, (end, *after)))
    return found


def retry_after_ignored(entries: list[JournalEntry]) -> list[Finding]:
    found = []
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


def create_repeated_after_lost(entries: list[JournalEntry], roles: Mapping[str, str]) -> list[Finding]:
    found = []
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


def key_sent_to_file_host(entries: list[JournalEntry], files: str) -> list[Finding]:
    return [
        Finding(f"{entry.method} {entry.path} carried the API key ({entry.key})", (entry,))
        for entry in entries
        if entry.provider == files and entry.key is not None
    ]


def task_never_followed(
    entries: list[JournalEntry], roles: Mapping[str, str], called_back: Callable[[str], bool]
) -> list[Finding]:
    polled = set(_polls(entries, roles))
    return [
        Finding(f"{entry.task} was created and never polled, and has no callback URL", (entry,))
        for entry in entries
        if roles.get(entry.operation or "") == CREATE
        and entry.task is not None
        and _answered(entry)
        and not _lost(entry)
        and (entry.key, entry.task) not in polled
        and not called_back(entry.task)
    ]


def judge(
    entries: list[JournalEntry],
    roles: Mapping[str, str],
    files: str,
    called_back: Callable[[str], bool],
    min_interval: float,
) -> dict[str, list[Finding]]:
    """Every check's findings over `entries` (oldest first); no findings: the check passed."""
    entries = sorted(entries, key=lambda entry: (entry.time, entry.wall, entry.seq))
    return {
        "poll_too_fast": poll_too_fast(entries, roles, min_interval),
        "retry_after_ignored": retry_after_ignored(entries),
        "polled_after_end": polled_after_end(entries, roles),
        "create_repeated_after_lost": create_repeated_after_lost(entries, roles),
        "key_sent_to_file_host": key_sent_to_file_host(entries, files),
        "task_never_followed": task_never_followed(entries, roles, called_back),
    }


def report(
    findings: Mapping[str, list[Finding]], key: str | None, count: int, min_interval: float
) -> dict[str, Any]:
    return {
        "key": key,
        "requests": count,
        "min_poll_interval": min_interval,
        "passed": not any(findings.values()),
        "verdicts": [
            {
                "check": check,
                "description": CHECKS[check],
                "passed": not found,
                "findings": [finding.view() for finding in found],
            }
            for check, found in findings.items()
        ],
    }
