"""Recordings as replay reads them: the proxy's HAR files (`har.py`), or a HAR document sent to
the control plane, turned into the engine's recorded exchanges (`mockserver/engine/replay.py`).

Upstream layer: the file format is `har.py`'s; what is done with the exchanges is the engine's.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockserver.engine.replay import Exchange
from mockserver.upstream import har

UnreadableRecording = har.HarError


def _replayed(recorded: har.Exchange) -> Exchange:
    return Exchange(
        provider=recorded.provider,
        operation=recorded.operation,
        kind=recorded.kind,
        task=recorded.task,
        started=recorded.started,
        method=recorded.method,
        url=recorded.url,
        request=recorded.request_body,
        status=recorded.status,
        response=recorded.response_body,
    )


def read(path: str | Path) -> list[Exchange]:
    """The exchanges of the recording at `path` (a file cut mid-entry keeps its whole entries)."""
    return [_replayed(recorded) for recorded in har.read(path)]


def from_har(document: Mapping[str, Any]) -> list[Exchange]:
    """The exchanges of a HAR document; entries without the proxy's `_provider` are left out."""
    entries = document.get("log", {}).get("entries", [])
    found = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or "_provider" not in entry:
            continue
        try:
            found.append(_replayed(har.exchange_of(entry)))
        except (KeyError, TypeError, ValueError) as error:
            raise UnreadableRecording(f"entry {number} is not a complete HAR entry ({error!r})") from None
    return sorted(found, key=lambda exchange: exchange.started)
