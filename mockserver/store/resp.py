"""The Redis protocol (RESP2) the store's connection speaks: commands packed, replies read as the
bytes arrive. hiredis (redis-py's C parser, in the `[redis]` extra) does both where it is
installed; this module's Python does them where it is not, to the same bytes and replies.

Store layer: the standard library, and hiredis where installed.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any, Protocol

Arg = str | bytes | int | float
_CRLF = b"\r\n"


class ReplyError(Exception):
    """Redis answered a command with an error (a script's error, NOSCRIPT, a wrong type)."""


class ProtocolError(ConnectionError):
    """What came back is not RESP: the connection can no longer be read."""


class Reader(Protocol):
    def feed(self, data: bytes, /) -> None: ...

    def gets(self) -> Any:
        """The next whole reply (an error reply as a `ReplyError`, not raised), or False
        until one has arrived; `ProtocolError` for bytes that are not RESP."""


def pack(args: tuple[Arg, ...]) -> bytes:
    """One command as RESP: text as UTF-8, a number as `str` (a float as `repr`) writes it."""
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, bytes):
            data = arg
        elif isinstance(arg, str):
            data = arg.encode()
        elif isinstance(arg, int | float) and not isinstance(arg, bool):
            data = repr(arg).encode()
        else:
            raise TypeError(f"a command's arguments are str, bytes, int or float, not {type(arg).__name__}")
        parts.append(b"$%d\r\n%b\r\n" % (len(data), data))
    return b"".join(parts)


_INCOMPLETE, _OPENED = object(), object()


class PythonReader:
    """hiredis' `Reader`, in Python: an array's items are kept as they arrive, never read
    twice, so a long reply coming in many pieces costs its length once."""

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._at = 0  # where the next item starts
        self._open: list[tuple[list[Any], int]] = []  # arrays being read (outermost first), and their length

    def feed(self, data: bytes, /) -> None:
        if self._at:  # what has been read goes
            del self._buffer[: self._at]
            self._at = 0
        self._buffer += data

    def gets(self) -> Any:
        while (item := self._item()) is not _INCOMPLETE:
            if item is _OPENED:
                continue
            while self._open:
                items, length = self._open[-1]
                items.append(item)
                if len(items) < length:
                    break
                item = self._open.pop()[0]
            else:
                return item
        return False

    def _item(self) -> Any:
        """The next item (an array opened, or a whole value), or _INCOMPLETE."""
        buffer, at = self._buffer, self._at
        end = buffer.find(_CRLF, at)
        if end < 0:
            return _INCOMPLETE
        kind, line = buffer[at], bytes(buffer[at + 1 : end])
        value: Any
        if kind == _BULK:
            size = _number(line)
            if size >= 0:
                if len(buffer) < end + size + 4:
                    return _INCOMPLETE
                value, end = bytes(buffer[end + 2 : end + 2 + size]), end + size + 2
            else:
                value = None
        elif kind == _ARRAY:
            size = _number(line)
            value = None if size < 0 else []
            if size > 0:
                self._open.append((value, size))
                value = _OPENED
        elif kind in _SCALARS:
            value = _SCALARS[kind](line)
        else:
            raise ProtocolError(f"Protocol error, got {chr(kind)!r} as reply type byte")
        self._at = end + 2
        return value


def _number(line: bytes) -> int:
    try:
        return int(line)
    except ValueError:
        raise ProtocolError(f"Protocol error, not a number: {line!r}") from None


# Each reply's first byte: a bulk string, an array, and the replies of one line.
_BULK, _ARRAY = ord("$"), ord("*")
_SCALARS: dict[int, Callable[[bytes], Any]] = {
    ord("+"): bytes,
    ord("-"): lambda line: ReplyError(line.decode(errors="replace")),
    ord(":"): _number,
}


def _hiredis() -> ModuleType | None:
    try:
        import hiredis
    except ImportError:  # the Python above does the same, slower
        return None
    return hiredis


HIREDIS = _hiredis()
PARSER = "python" if HIREDIS is None else "hiredis"  # which one reads and packs, for people


def reader() -> Reader:
    """A reader for one connection."""
    if HIREDIS is None:
        return PythonReader()
    found: Reader = HIREDIS.Reader(protocolError=ProtocolError, replyError=ReplyError)
    return found


pack_command: Callable[[tuple[Arg, ...]], bytes] = pack if HIREDIS is None else HIREDIS.pack_command
