"""Recordings on disk: HAR 1.2 files with the fields `mockserver/upstream` writes (`_provider`,
`_operation`, `_kind`, `_task`), read into the exchanges replay works from.

Upstream layer: the file format; what is done with it lives in `mockserver/engine/replay.py`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from mockserver.engine.replay import Exchange


class UnreadableRecording(ValueError):
    """The file is not a HAR recording (the message says why)."""


def read(path: str | Path) -> list[Exchange]:
    """The exchanges of the recording at `path`."""
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UnreadableRecording(f"{path}: {error}") from None
    if not isinstance(document, Mapping) or not isinstance(document.get("log"), Mapping):
        raise UnreadableRecording(f"{path}: not a HAR file (no log object)")
    return from_har(document)


def from_har(document: Mapping[str, Any]) -> list[Exchange]:
    """The exchanges of a recording (HAR 1.2 with the `_provider`, `_operation`, `_kind` and
    `_task` fields `mockserver/upstream` writes); entries without them are skipped."""
    found = []
    for entry in document.get("log", {}).get("entries", []):
        if not isinstance(entry, Mapping) or "_provider" not in entry:
            continue
        request, response = entry.get("request", {}), entry.get("response", {})
        found.append(
            Exchange(
                provider=entry.get("_provider"),
                operation=entry.get("_operation"),
                kind=entry.get("_kind", "request"),
                task=entry.get("_task"),
                started=datetime.fromisoformat(entry["startedDateTime"]).timestamp(),
                method=str(request.get("method", "GET")),
                url=str(request.get("url", "")),
                request=_json(request.get("postData", {}).get("text")),
                status=int(response.get("status", 0)),
                response=_json(response.get("content", {}).get("text")),
            )
        )
    return found


def _json(text: Any) -> Any:
    try:
        return json.loads(text) if isinstance(text, str) and text else None
    except ValueError:
        return None
