"""The recording: HAR 1.2 (browser devtools and HAR tools open it), one entry per proxied
exchange, with `_provider`, `_operation`, `_kind`, `_task` and `_key` beside the standard fields.

`Recorder` writes each exchange as it ends, secrets taken out first (`redact.py`), so the file is
valid JSON after every exchange: a process killed at any moment leaves a readable file that lacks
at most the exchanges in flight. `read` gives the exchanges back in the order they began, and
keeps the complete entries of a file cut mid-entry.

Upstream layer: the standard library, orjson, and `redact.py`.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from mockserver.upstream import redact

VERSION = "1.2"
CREATOR = "videogen-mock"
REQUEST, CALLBACK = "request", "callback"  # `_kind`: a client's request, or the provider's callback
# Every entry is written with a two-byte separator before it, so one can be put in front of
# another without moving anything but the entries after it.
FIRST, NEXT = b"\n ", b",\n"
TAIL = b"\n]}}\n"
ENTRIES = b'"entries":'
Headers = list[tuple[str, str]]


class HarError(Exception):
    """The file cannot be read as a recording."""


@dataclass(frozen=True)
class Observed:
    """One exchange as the proxy saw it, secrets and all (they are taken out when it is recorded)."""

    provider: str
    operation: str | None
    kind: str  # REQUEST or CALLBACK
    task: str | None
    key: str | None  # the fingerprint of the caller's key
    started: float  # Unix seconds
    method: str
    url: str  # the upstream's URL (a callback: the original callback URL)
    request_headers: Headers
    request_body: bytes
    status: int
    response_headers: Headers
    response_body: bytes
    wait: float = 0.0  # seconds until the answer's headers
    receive: float = 0.0  # seconds reading the answer's body
    http_version: str = "HTTP/1.1"
    status_text: str = ""


@dataclass(frozen=True)
class Exchange:
    """One recorded exchange, as both the drift report and replay read it."""

    provider: str
    operation: str | None
    kind: str
    task: str | None
    key: str | None
    started: float  # Unix seconds
    method: str
    url: str
    request_headers: dict[str, str]  # names in lower case
    request_body: Any  # parsed JSON, or None
    status: int
    response_headers: dict[str, str]
    response_body: Any  # parsed JSON, or None
    entry: dict[str, Any] = field(repr=False, compare=False)  # the HAR entry as stored

    @property
    def content_type(self) -> str:
        return str(self.entry["response"]["content"].get("mimeType", ""))

    @property
    def response_text(self) -> str:
        return str(self.entry["response"]["content"].get("text", ""))


def iso(when: float) -> str:
    return datetime.fromtimestamp(when, UTC).isoformat(timespec="milliseconds")


def _mime(headers: Headers) -> str:
    return next((value for name, value in headers if name.lower() == "content-type"), "")


def _content(body: bytes, mime: str, keep_secrets: bool) -> dict[str, Any]:
    """`text` for a body that is text (secrets taken out), else base64 as HAR allows."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {
            "size": len(body),
            "mimeType": mime,
            "text": base64.b64encode(body).decode(),
            "encoding": "base64",
        }
    return {"size": len(body), "mimeType": mime, "text": redact.body_text(text, keep_secrets=keep_secrets)}


def _pairs(headers: Headers) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in redact.headers(headers)]


def entry_of(seen: Observed, *, keep_secrets: bool = False) -> dict[str, Any]:
    """The HAR entry of one exchange, with its secrets taken out (unless `keep_secrets`, only the
    keys)."""
    drop = seen.kind == CALLBACK and not keep_secrets
    url = redact.request_url(seen.url, drop_query=drop, keep_secrets=keep_secrets)
    request: dict[str, Any] = {
        "method": seen.method,
        "url": url,
        "httpVersion": seen.http_version,
        "cookies": [],
        "headers": _pairs(seen.request_headers),
        "queryString": [
            {"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": len(seen.request_body),
    }
    if seen.request_body or seen.method not in ("GET", "HEAD"):
        content = _content(seen.request_body, _mime(seen.request_headers), keep_secrets)
        request["postData"] = {"mimeType": content["mimeType"], "text": content["text"]}
    status_text = seen.status_text or _phrase(seen.status)
    response = {
        "status": seen.status,
        "statusText": status_text,
        "httpVersion": seen.http_version,
        "cookies": [],
        "headers": _pairs(seen.response_headers),
        "content": _content(seen.response_body, _mime(seen.response_headers), keep_secrets),
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": len(seen.response_body),
    }
    wait, receive = round(seen.wait * 1000, 3), round(seen.receive * 1000, 3)
    return {
        "startedDateTime": iso(seen.started),
        "time": round(wait + receive, 3),
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": wait, "receive": receive},
        "_provider": seen.provider,
        "_operation": seen.operation,
        "_kind": seen.kind,
        "_task": seen.task,
        "_key": seen.key,
    }


def _phrase(status: int) -> str:
    with contextlib.suppress(ValueError):
        return HTTPStatus(status).phrase
    return ""


def _creator() -> dict[str, str]:
    try:
        version = metadata.version(CREATOR)
    except metadata.PackageNotFoundError:
        version = "0"
    return {"name": CREATOR, "version": version}


class Recorder:
    """Appends entries to a HAR file (an existing recording is continued, a cut one repaired
    first). Each entry takes one positioned write that ends with the file's closing brackets;
    an entry that began before entries already written goes in front of them."""

    def __init__(self, path: str | Path, *, keep_secrets: bool = False) -> None:
        self.path, self.keep_secrets = Path(path), keep_secrets
        kept = entries(self.path) if self.path.exists() and self.path.stat().st_size else []
        self._starts: list[float] = []
        self._offsets: list[int] = []
        head = b'{"log": {"version": "1.2", "creator": ' + orjson.dumps(_creator()) + b', "entries": ['
        chunks = [head]
        self._end = len(head)
        for entry in sorted(kept, key=_started):
            chunk = (NEXT if self._starts else FIRST) + orjson.dumps(entry)
            self._starts.append(_started(entry))
            self._offsets.append(self._end)
            self._end += len(chunk)
            chunks.append(chunk)
        chunks.append(TAIL)
        _replace(self.path, b"".join(chunks))  # whole, or not at all
        self._fd: int | None = os.open(self.path, os.O_RDWR)

    def write(self, seen: Observed) -> dict[str, Any]:
        """Record one exchange; returns its entry as stored."""
        entry = entry_of(seen, keep_secrets=self.keep_secrets)
        if self._fd is None:
            raise ValueError(f"the recording {self.path} is closed")
        data = orjson.dumps(entry)
        index = bisect.bisect_right(self._starts, seen.started)
        at = self._offsets[index] if index < len(self._offsets) else self._end
        later = os.pread(self._fd, self._end - at, at) if index < len(self._offsets) else b""
        if later.startswith(FIRST):  # it was first: it follows the new one now
            later = NEXT + later[len(FIRST) :]
        chunk = (NEXT if index else FIRST) + data
        _write_all(self._fd, chunk + later + TAIL, at)
        self._offsets[index:] = [at, *(offset + len(chunk) for offset in self._offsets[index:])]
        self._starts.insert(index, seen.started)
        self._end += len(chunk)
        return entry

    @property
    def count(self) -> int:
        return len(self._starts)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _replace(path: Path, data: bytes) -> None:
    """Write `data` to a new file beside `path`, then rename it over `path` (mode 600: a
    recording holds what your provider answered you)."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _started(entry: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(entry["startedDateTime"])).timestamp()


# -- reading -----------------------------------------------------------------------------


def entries(path: Path) -> list[dict[str, Any]]:
    """The complete entries of a HAR file as stored (any tool's), a file cut mid-entry included."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise HarError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        document = json.loads(raw)
    except ValueError:
        return _salvaged(path, raw)
    entries = document.get("log", {}).get("entries") if isinstance(document, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise HarError(f"{path} is not a HAR file (no log.entries)")
    return entries


def _salvaged(path: Path, raw: bytes) -> list[dict[str, Any]]:
    """The entries before the point where a cut file stops being JSON."""
    start = raw.find(ENTRIES)
    bracket = raw.find(b"[", start) if start >= 0 else -1
    if bracket < 0:
        raise HarError(f"{path} is not JSON, nor a HAR file cut short")
    try:
        text = raw[bracket + 1 :].decode("utf-8")
    except UnicodeDecodeError as error:  # cut inside a character: keep what decodes
        text = raw[bracket + 1 : bracket + 1 + error.start].decode("utf-8")
    decoder, at = json.JSONDecoder(), 0
    found: list[dict[str, Any]] = []
    while True:
        while at < len(text) and text[at] in " \t\r\n,":
            at += 1
        try:
            entry, at = decoder.raw_decode(text, at)
        except ValueError:
            return found
        if not isinstance(entry, dict):
            return found
        found.append(entry)


def _parsed(content: dict[str, Any] | None) -> Any:
    if not content or content.get("encoding") == "base64":
        return None
    try:
        return json.loads(content.get("text") or "")
    except ValueError:
        return None


def _headers(pairs: Iterable[Any]) -> dict[str, str]:
    return {str(p["name"]).lower(): str(p["value"]) for p in pairs if isinstance(p, dict) and "name" in p}


def exchange_of(entry: dict[str, Any]) -> Exchange:
    """An entry of ours as an `Exchange` (KeyError or ValueError when it is not one)."""
    request, response = entry["request"], entry["response"]
    return Exchange(
        provider=str(entry["_provider"]),
        operation=entry.get("_operation"),
        kind=str(entry.get("_kind") or REQUEST),
        task=entry.get("_task"),
        key=entry.get("_key"),
        started=_started(entry),
        method=str(request["method"]),
        url=str(request["url"]),
        request_headers=_headers(request.get("headers", [])),
        request_body=_parsed(request.get("postData")),
        status=int(response["status"]),
        response_headers=_headers(response.get("headers", [])),
        response_body=_parsed(response.get("content")),
        entry=entry,
    )


def read(path: str | Path) -> list[Exchange]:
    """The exchanges a recording holds, in the order they began (entries of other tools, which
    name no `_provider`, are left out). HarError when the file cannot be read as HAR."""
    path = Path(path)
    exchanges = []
    for number, entry in enumerate(entries(path), 1):
        if "_provider" not in entry:
            continue
        try:
            exchanges.append(exchange_of(entry))
        except (KeyError, TypeError, ValueError) as error:
            raise HarError(f"{path}: entry {number} is not a complete HAR entry ({error!r})") from None
    return sorted(exchanges, key=lambda e: e.started)
