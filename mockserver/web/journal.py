"""Journal entries as the web layer records them: what was asked (method, path, query, headers
as sent, redacted when shown; headers and body each capped) and what was answered (status, time
taken, the fault applied, the task concerned, Retry-After); and the request log line
(`logs.RequestLog`, batched).

Web layer.
"""

from __future__ import annotations

import functools
import time

from starlette.types import Scope

from mockserver.engine.journal import JournalFields
from mockserver.web.host import Host

CAPPED = b"x-mock-journal: later headers left out: over MOCKSERVER_JOURNAL_BODY_BYTES"


def record(host: Host, fields: JournalFields) -> None:
    """Keep the entry, and log it when request logging is on."""
    host.engine.record(fields)
    if host.request_log is not None:
        host.request_log.add(fields)


def packed_headers(scope: Scope, cap: int) -> bytes:
    return _packed(tuple(scope["headers"]), cap)


def unanswered_route(
    host: Host, scope: Scope, api: str, key: str | None, status: int, started: float, arrived: float
) -> JournalFields:
    """The fields of a request no operation answered (a redirect, a 404 or a 405)."""
    seconds = time.perf_counter() - started
    return {
        "time": arrived,
        "wall": time.time() - seconds,
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode("latin-1"),
        "provider": api,
        "operation": None,
        "key": key,
        "status": status,
        "duration_ms": seconds * 1000,
        "fault": None,
        "task": None,
        "task_status": None,
        "retry_after": None,
        "headers": packed_headers(scope, host.settings.journal_body_bytes),
        "body": "",
        "body_bytes": 0,
    }


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
