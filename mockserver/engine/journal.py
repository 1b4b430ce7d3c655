"""The request journal: what was asked, by which key fingerprint, and what was answered.

Engine layer. Bounded, so a long load run cannot grow memory without end.
"""

from __future__ import annotations

from collections import deque
from typing import Any, NamedTuple


class JournalEntry(NamedTuple):  # a tuple: cheap to make on every request
    seq: int
    time: float
    method: str
    path: str
    provider: str | None
    operation: str | None
    key: str | None
    status: int

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()


class Journal:
    def __init__(self, limit: int) -> None:
        self._entries: deque[JournalEntry] = deque(maxlen=limit)
        self._seq = 0

    def record(
        self,
        *,
        time: float,
        method: str,
        path: str,
        provider: str | None,
        operation: str | None,
        key: str | None,
        status: int,
    ) -> JournalEntry:
        self._seq += 1
        entry = JournalEntry(self._seq, time, method, path, provider, operation, key, status)
        self._entries.append(entry)
        return entry

    def entries(self, *, provider: str | None = None, operation: str | None = None) -> list[JournalEntry]:
        return [
            entry
            for entry in self._entries
            if (provider is None or entry.provider == provider)
            and (operation is None or entry.operation == operation)
        ]

    def clear(self) -> None:
        self._entries.clear()
        self._seq = 0
