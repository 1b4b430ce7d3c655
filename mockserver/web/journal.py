"""Journal entries as the web layer records them: what was asked (method, path, query, headers
as sent, redacted when shown; headers and body each capped) and what was
answered (status, time taken, the fault applied, the task concerned, Retry-After); and the
request log line (`logs.RequestLog`, batched).

Web layer.
"""

from __future__ import annotations

import functools
import time

from starlette.types import Scope

from mockserver.engine.faults import Fault
from mockserver.engine.journal import JournalEntry
from mockserver.web.host import Host


def journal(
    fake: Host,
    scope: Scope,
    api: str,
    operation: str | None,
    key: str | None,  # the bearer key's fingerprint
    status: int | None,
    started: float,
    arrived: float,
    fault: Fault | None = None,
    task: tuple[str, str] | None = None,
    retry_after: int | None = None,
    body: bytes = b"",
) -> None:
    """Journal a provider or file request, and log it when request logging is on. `started`
    is when it arrived (`time.perf_counter()`), `arrived` the fake time then; the time taken
    counts a fault's delay, which comes after this."""
    cap = fake.settings.journal_body_bytes
    taken = time.perf_counter() - started
    elapsed = (taken + (fault.delay if fault is not None else 0.0)) * 1000
    entry = _tuple(
        JournalEntry,
        (  # `_make` without its Python frame: this runs on every request
            0,
            arrived,
            time.time() - taken,
            scope["method"],
            scope["path"],
            scope["query_string"].decode("latin-1"),
            api,
            operation,
            key,
            status,
            elapsed,
            None if fault is None else str(fault),
            task[0] if task else None,
            task[1] if task else None,
            retry_after,
            _packed(tuple(scope["headers"]), cap),
            body[:cap].decode("utf-8", "replace") if body else "",
            len(body),
        ),
    )
    fake.engine.record(entry)
    if fake.request_log is not None:
        fake.request_log.add(entry)


_tuple = tuple.__new__
CAPPED = b"x-mock-journal: later headers left out: over MOCKSERVER_JOURNAL_BODY_BYTES"


@functools.lru_cache(maxsize=1024)  # a client sends the same headers request after request
def _packed(headers: tuple[tuple[bytes, bytes], ...], cap: int) -> bytes:
    """The headers as sent, as on the wire (`name: value` lines), kept while they fit in `cap`
    bytes. One bytes object per entry (shared by the entries of requests with the same
    headers): a full journal of pairs of small objects held 12 MB more, and a full journal of
    requests with 64 KB of headers each would hold a gigabyte."""
    packed = b"\r\n".join(map(b": ".join, headers))
    if len(packed) <= cap:
        return packed
    cut = packed.rfind(b"\r\n", 0, cap + 1)  # the last whole line that fits
    return packed[:cut] + b"\r\n" + CAPPED if cut > 0 else CAPPED
