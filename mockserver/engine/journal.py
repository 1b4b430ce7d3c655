"""The request journal: what was asked, by which key fingerprint, and what was answered.

Engine layer. Stores keep it bounded, so a long load run cannot grow memory without end.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class JournalEntry(NamedTuple):  # a tuple: cheap to make on every request
    seq: int  # given by the store when recorded
    time: float
    method: str
    path: str
    provider: str | None
    operation: str | None
    key: str | None
    status: int

    def to_dict(self) -> dict[str, Any]:
        return self._asdict()

    def matches(self, provider: str | None, operation: str | None) -> bool:
        return (provider is None or self.provider == provider) and (
            operation is None or self.operation == operation
        )
