"""The host names routed to the fake in-process, compared as a resolver would (any case, a
trailing dot or not).

Contracts layer: standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable


def normal(host: str | bytes | None) -> str:
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    return (host or "").strip("[]").rstrip(".").lower()


class Hosts:
    __slots__ = ("names",)

    def __init__(self, names: Iterable[str]) -> None:
        self.names = frozenset(normal(name) for name in names)

    def __contains__(self, host: object) -> bool:
        return isinstance(host, (str, bytes)) and normal(host) in self.names

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self.names))
