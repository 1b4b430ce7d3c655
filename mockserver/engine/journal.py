"""The request journal: what each request asked and what it was answered, for tests to assert
on and for verdicts on a client's behaviour. Keys appear only as fingerprints, other secrets
redacted, bodies capped (the web layer records entries so).

Engine layer. Stores keep it bounded, so a long load run cannot grow memory without end.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypedDict

from mockserver.engine.ids import fingerprint

REDACTED = "[redacted]"
SECRETS = frozenset({"x-mock-token", "cookie", "proxy-authorization"})
# Headers as a request sent them (`name: value` lines as on the wire, kept as they came:
# redacting waits until they are shown or leave the process), or as shown (text, redacted).
Headers = bytes | Sequence[tuple[str, str]]


def shown_headers(headers: Headers) -> list[tuple[str, str]]:
    """Headers never show a secret: the bearer key as its fingerprint, other secrets redacted.
    Redacted by name line by line, so a value that smuggles in a line break cannot slip a
    secret past it."""
    if not isinstance(headers, bytes):
        return [(str(name), str(value)) for name, value in headers]  # shown already
    shown = []
    for line in headers.split(b"\r\n") if headers else ():
        raw_name, _, raw_value = line.partition(b": ")
        name, text = raw_name.decode("latin-1"), raw_value.decode("latin-1")
        if name == "authorization":
            scheme, _, token = text.partition(" ")
            bearer = scheme.lower() == "bearer" and token
            text = f"{scheme} {fingerprint(token.strip())}" if bearer else REDACTED
        elif name in SECRETS:
            text = REDACTED
        shown.append((name, text))
    return shown


class JournalEntry(NamedTuple):  # a tuple: cheap to make on every request
    seq: int  # given by the store when recorded
    time: float  # fake time the request arrived
    wall: float  # real (Unix) time it arrived
    method: str
    path: str
    query: str
    provider: str | None  # the API that answered (a provider's slug, or files)
    operation: str | None  # None: no route matched
    key: str | None  # fingerprint of the bearer key
    status: int | None  # None: no answer was sent (a connection fault)
    duration_ms: float  # real milliseconds to the answer (a delay fault included)
    fault: str | None  # the fault applied, in the grammar of X-Mock-Fault
    task: str | None  # the task the request created or read
    task_status: str | None  # that task's neutral status, as answered
    retry_after: int | None  # the Retry-After answered
    headers: Headers  # as sent: `shown_headers` redacts them
    body: str  # as sent, capped (body_bytes says how long it was)
    body_bytes: int

    def to_dict(self) -> dict[str, Any]:
        view = self._asdict()
        view["duration_ms"] = round(self.duration_ms, 3)
        view["headers"] = [list(pair) for pair in shown_headers(self.headers)]
        return view


class JournalFields(TypedDict):
    """A request's entry as the web layer writes it: every field by name (mypy checks each
    one), as a dict literal, which the stores keep as they like (`Store.record`); readers get
    `JournalEntry`s. Keyword construction of an 18-field named tuple would cost each request
    12,000 instructions on Python 3.11; a literal costs a tenth of that."""

    time: float
    wall: float
    method: str
    path: str
    query: str
    provider: str | None
    operation: str | None
    key: str | None
    status: int | None
    duration_ms: float
    fault: str | None
    task: str | None
    task_status: str | None
    retry_after: int | None
    headers: Headers
    body: str
    body_bytes: int


# The fields' values in the entry's order (after `seq`), taken in C: how stores pack them.
in_order: Callable[[JournalFields], tuple[Any, ...]] = operator.itemgetter(*JournalEntry._fields[1:])


def entry_of(fields: JournalFields, seq: int = 0) -> JournalEntry:
    """The entry `fields` describe, numbered `seq`."""
    return JournalEntry(seq, *in_order(fields))


def fields_of(entry: JournalEntry) -> JournalFields:
    """The fields an entry was recorded from."""
    fields: Any = entry._asdict()
    del fields["seq"]
    return fields  # type: ignore[no-any-return]


class JournalQuery(NamedTuple):
    """Which entries to list; each field that is set must match."""

    provider: str | None = None
    operation: str | None = None
    key: str | None = None  # fingerprint
    status: int | None = None
    since: int = 0  # only entries with a higher `seq`

    def matches(self, entry: JournalEntry) -> bool:
        return (
            entry.seq > self.since
            and (self.provider is None or entry.provider == self.provider)
            and (self.operation is None or entry.operation == self.operation)
            and (self.key is None or entry.key == self.key)
            and (self.status is None or entry.status == self.status)
        )


EVERYTHING = JournalQuery()
