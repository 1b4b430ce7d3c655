"""The command's log records as JSON: one object a line, with a record's `extra=` fields (how
a structured request line reaches a log collector) and any exception as text."""

from __future__ import annotations

import json
import logging
import sys

from mockserver.logs import JsonFormatter


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
