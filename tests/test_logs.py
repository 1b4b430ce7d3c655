"""The command's log records as JSON: one object a line, with a record's `extra=` fields (how
a structured request line reaches a log collector) and any exception as text; and the
request lines, batched."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import sys
import time
from typing import Any, NamedTuple

import pytest

from mockserver.logs import BATCH, FLUSH_SECONDS, JsonFormatter, RequestLog, configure


class Request(NamedTuple):
    method: str
    path: str
    provider: str | None
    operation: str | None
    status: int | None
    duration_ms: float
    wall: float = 0.0


def request(*fields: Any) -> dict[str, Any]:
    """What the journal hands the request log: its fields by name."""
    return Request(*fields, wall=time.time())._asdict()


def record(**extra: object) -> logging.LogRecord:
    made = logging.LogRecord("mockserver.requests", logging.INFO, __file__, 1, "GET %s %d", ("/x", 200), None)
    made.__dict__.update(extra)
    return made


def test_a_record_is_one_json_line_with_its_extra_fields() -> None:
    line = JsonFormatter().format(record(status=200, duration_ms=1.5))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry.pop("time").endswith("+00:00")
    assert entry == {
        "level": "info",
        "logger": "mockserver.requests",
        "message": "GET /x 200",
        "status": 200,
        "duration_ms": 1.5,
    }


def test_an_exception_is_kept_as_text() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        failed = record(exc_info=sys.exc_info())
    entry = json.loads(JsonFormatter().format(failed))
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]


def test_a_text_request_line_and_with_no_loop_to_wait_on_it_is_written_at_once() -> None:
    stream = io.StringIO()
    log = RequestLog("text", stream)
    log.add(request("GET", "/v1/tasks/t1", "evolink", "getTaskDetail", 200, 0.42))
    [line] = stream.getvalue().splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} GET /v1/tasks/t1 evolink.getTaskDetail 200 0.4ms", line
    )


def test_a_json_request_line_has_the_formatters_fields_and_the_requests() -> None:
    stream = io.StringIO()
    log = RequestLog("json", stream)
    log.add(request("POST", "/v2/video/generations", "aimlapi", "createVideo", 201, 1.23456))
    log.flush()
    entry = json.loads(stream.getvalue())
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", entry.pop("time"))
    assert entry == {
        "level": "info",
        "logger": "mockserver.requests",
        "message": "POST /v2/video/generations aimlapi.createVideo 201 1.2ms",
        "method": "POST",
        "path": "/v2/video/generations",
        "provider": "aimlapi",
        "operation": "createVideo",
        "status": 201,
        "duration_ms": 1.235,
    }


@pytest.mark.anyio
async def test_on_a_loop_lines_are_written_by_a_timer_or_a_full_batch() -> None:
    stream = io.StringIO()
    log = RequestLog("text", stream)
    log.add(request("GET", "/a", "evolink", None, 404, 0.1))
    assert stream.getvalue() == ""
    await asyncio.sleep(FLUSH_SECONDS + 0.1)
    assert stream.getvalue().count("\n") == 1
    for n in range(BATCH):
        log.add(request("GET", f"/b{n}", "evolink", None, 404, 0.1))
    assert stream.getvalue().count("\n") == 1 + BATCH  # the full batch went at once, no wait
    log.flush()
    assert stream.getvalue().count("\n") == 1 + BATCH


def test_the_command_leaves_httpxs_line_per_callback_attempt_out() -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        configure(logging.INFO, "text")
        assert logging.getLogger("mockserver.errors").isEnabledFor(logging.INFO)
        assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
        assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.NOTSET)
