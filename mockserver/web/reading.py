"""What a request carries that every operation reads the same way: its bearer key and its
query string's values, each read at a fraction of the general tools' cost (they run on every
request), and its body, within the size limit.

Web layer.
"""

from __future__ import annotations

import functools
from urllib.parse import unquote, unquote_to_bytes

from starlette.types import Receive

from mockserver.spec import FieldError
from mockserver.web.errors import ApiError


@functools.lru_cache(maxsize=1024)  # clients send the same few keys again and again
def bearer(value: bytes | None) -> str | None:
    if value is None:
        return None
    scheme, _, token = value.decode("latin-1").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def query_values(raw: bytes) -> dict[str, str]:
    """The query string's values by name (the last of repeated names), blank values kept, as
    `urllib.parse.parse_qsl` reads them (tests/web/test_query.py), at a fraction of its cost:
    only a part with `%` or `+` in it is unquoted."""
    values = {}
    for part in raw.decode("latin-1").split("&"):
        if part:
            name, _, value = part.partition("=")
            if "%" in part or "+" in part:
                name, value = _unquote(name), _unquote(value)
            values[name] = value
    return values


@functools.lru_cache(maxsize=4096)  # a client polls each task many times: its escaped id recurs
def _unquote(text: str) -> str:
    """`urllib.parse.unquote` after `+` -> space; an ASCII text (any query as sent) skips its
    regex split of ASCII runs, half its cost."""
    text = text.replace("+", " ")
    if text.isascii():
        return unquote_to_bytes(text).decode("utf-8", "replace")
    return unquote(text)


async def read_body(receive: Receive, declared: bytes | None, limit: int) -> bytes:
    """The request body, whole: 413 beyond `limit` bytes (at once when its Content-Length
    says so), 400 when the client goes away before its end."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413)
    raw = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ApiError(400, errors=(FieldError("body", "the client disconnected"),))
        chunk: bytes = message.get("body", b"")
        more = message.get("more_body", False)
        if not raw and not more and len(chunk) <= limit:  # the usual body: one message
            return chunk
        raw += chunk
        if len(raw) > limit:
            raise ApiError(413)
        if not more:
            return bytes(raw)


async def drain(receive: Receive, limit: int) -> None:
    """Take the rest of a request body (up to `limit` bytes) before dropping the connection."""
    seen, done = 0, False
    while not done and seen <= limit:
        message = await receive()
        seen += len(message.get("body", b""))
        done = message["type"] == "http.disconnect" or not message.get("more_body", False)
