"""Logging for the `mockserver` command: every record (uvicorn's own, warnings) to stderr, as
text or as one JSON object a line; and the request lines, written the same way but batched.

A request line through `logging` costs a LogRecord, a handler and a write per request, about
a quarter of a poll's work; `RequestLog` keeps the request's fields and formats and writes
what piled up every `FLUSH_SECONDS` (or `BATCH` lines) in one write, off the request's path.

App layer: imports nothing from the rest of the package.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from math import floor
from typing import Any, TextIO

import orjson

FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(message)s"
REQUESTS = "mockserver.requests"  # the logger name request lines carry
FLUSH_SECONDS = 0.5  # how long a request line may wait to be written
BATCH = 512  # lines that are written at once, however recent
# Formatted once, not on every line: a line's milliseconds, and durations under 100 ms.
MILLIS = tuple(f"{n:03d}" for n in range(1000))
TOOK = tuple(f"{n // 10}.{n % 10}ms" for n in range(1000))
# What every LogRecord carries; anything else on a record came from `extra=` and is a field.
STANDARD_ATTRIBUTES = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's ANSI-coloured copy of the message
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, then the
    record's `extra=` fields and any exception as text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in record.__dict__.items():
            if name not in STANDARD_ATTRIBUTES and name not in entry:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure(level: int | str, log_format: str) -> None:
    """Send every record at `level` or above to stderr in `log_format` ("text" or "json")."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # httpx logs every callback attempt at info, through the whole logging machinery: 10,000
    # lines in a burst; the attempts are in GET /__mock/callbacks instead.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


# What a request line shows, by field name: the journal's fields (`engine.journal.JournalFields`):
# wall (Unix time it arrived), method, path, provider, operation, status, duration_ms.
Request = Mapping[str, Any]


class RequestLog:
    """One line per request, in the command's format (text as `TEXT_FORMAT`, or the JSON
    object `JsonFormatter` writes, with the request's fields), batched on the running loop:
    a request only hands over its fields (the journal's entry), and the lines are formatted
    and written together. Written to `stream`, or to whatever `sys.stderr` is at the time."""

    def __init__(self, log_format: str = "text", stream: TextIO | None = None) -> None:
        self._json = log_format == "json"
        self._stream = stream
        self._waiting: list[Request] = []
        self._pending: asyncio.TimerHandle | None = None

    def add(self, request: Request) -> None:
        waiting = self._waiting
        waiting.append(request)
        if len(waiting) >= BATCH:
            self.flush()
        elif self._pending is None:
            try:
                self._pending = asyncio.get_running_loop().call_later(FLUSH_SECONDS, self.flush)
            except RuntimeError:  # no loop: nothing would come back to write it
                self.flush()

    def flush(self) -> None:
        """Write every line waiting (at the timer, a full batch, and at shutdown)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None
        if not self._waiting:
            return
        waiting, self._waiting = self._waiting, []
        text = "\n".join(self._lines(waiting)) + "\n"
        stream = self._stream if self._stream is not None else sys.stderr
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: the lines are only a log
            pass

    def _lines(self, requests: list[Request]) -> list[str]:
        lines: list[str] = []
        append, text, second, stamp = lines.append, not self._json, -1, ""
        for request in requests:
            wall = request["wall"]
            whole = floor(wall)
            if whole != second:  # the date is formatted once a second, not once a line
                second, stamp = whole, self._stamp(whole)
            millis = MILLIS[floor((wall - whole) * 1000)]
            tenths = floor(request["duration_ms"] * 10 + 0.5)  # `{ms:.1f}` without float formatting
            took = TOOK[tenths] if tenths < len(TOOK) else f"{tenths // 10}.{tenths % 10}ms"
            if text:  # one string built per line
                append(
                    f"{stamp}{millis} {request['method']} {request['path']} {request['provider']}."
                    f"{request['operation']} {request['status']} {took}"
                )
            else:
                append(self._json_line(stamp + millis, took, request))
        return lines

    def _stamp(self, second: int) -> str:
        if self._json:
            return datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        return time.strftime("%Y-%m-%d %H:%M:%S,", time.localtime(second))

    @staticmethod
    def _json_line(when: str, took: str, request: Request) -> str:
        message = (
            f"{request['method']} {request['path']} {request['provider']}.{request['operation']} "
            f"{request['status']} {took}"
        )
        fields = {
            "time": f"{when}+00:00",
            "level": "info",
            "logger": REQUESTS,
            "message": message,
            "method": request["method"],
            "path": request["path"],
            "provider": request["provider"],
            "operation": request["operation"],
            "status": request["status"],
            "duration_ms": round(request["duration_ms"], 3),
        }
        return orjson.dumps(fields).decode()
