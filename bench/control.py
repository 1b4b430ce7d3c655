"""The fake as the bench drives it: the `mockserver` command ready on a free port (its output in
a log, read back for warnings), tasks created in bulk (pipelined, every answer checked), the
manual clock moved, and what the fake holds read back through its control plane (every task a
page at a time, the callback deliveries, the journal)."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.http1 import Connection, encode
from bench.servers import (
    READY_PATH,
    fake_command,
    free_port,
    http_probe,
    pinned,
    server_env,
    spawned,
    wait_ready,
)

EVOLINK_CREATE = "/v1/videos/generations"
AIMLAPI_CREATE = "/v2/video/generations"
PAGE = 1000  # the largest page GET /__mock/tasks serves
TIMEOUT = 300.0  # seconds any one answer may take (an advance over a burst, a large listing)
# A request line of the fake's log (`--log-level info`): time, method, path, operation, status.
REQUEST_LINE = re.compile(r"^\S+ \S+ [A-Z]+ \S+ \S+ \d{3} [\d.]+ms$")
# httpx's own line for each request it sends (a callback attempt), at info.
CALLBACK_LINE = re.compile(r"^\S+ \S+ HTTP Request: ")


@contextlib.contextmanager
def fake(
    flags: Sequence[str], log: Path, cpu: str | None, **env: str
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`mockserver` with `flags` (and `MOCKSERVER_*` variables `env`) answering on a free port of
    127.0.0.1, on `cpu`; stopped on the way out."""
    port = free_port()
    with spawned(pinned(cpu, fake_command(port, flags)), log=log, env=server_env(**env)) as proc:
        wait_ready(proc, http_probe(port, READY_PATH["fake"], 10), 60, log)
        yield proc, port


def notices(log: Path) -> dict[str, Any]:
    """A fake's log after its banner: how many lines httpx wrote for callback attempts, and the
    first of the other lines that are not request lines (warnings, errors, tracebacks: the log
    format carries no level name)."""
    text = log.read_text(errors="replace")
    if "\nTry it:\n" in text:  # the banner ends with its example, then an empty line
        text = text.split("\nTry it:\n", 1)[1].split("\n\n", 1)[-1]
    lines = [line for line in text.splitlines() if line and not REQUEST_LINE.match(line)]
    others = [line for line in lines if not CALLBACK_LINE.match(line)]
    return {
        "callback_lines": len(lines) - len(others),
        "other_lines": len(others),
        "first_others": others[:10],
    }


def create_many(port: int, path: str, body: dict[str, Any], count: int) -> None:
    """`count` creates pipelined on one keep-alive connection: the server never waits for the
    client, so they are made as fast as it can make them."""
    with Connection(port, TIMEOUT) as conn:
        statuses = conn.pipelined(encode("POST", conn.host, path, body), count)
    refused = [status for status in statuses if not 200 <= status < 300]
    if refused:
        raise RuntimeError(f"{len(refused)} of {count} creates failed (first: {refused[0]})")


def call(port: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One request; its JSON answer, which must be 2xx."""
    with Connection(port, TIMEOUT) as conn:
        status, answer = conn.request(method, path, body)
    if not 200 <= status < 300:
        raise RuntimeError(f"{method} {path} answered {status}: {answer[:300]!r}")
    return json.loads(answer)


def create(port: int, path: str, body: dict[str, Any]) -> str:
    """One task; its id."""
    task_id: str = call(port, "POST", path, body)["id"]
    return task_id


def advance(port: int, seconds: float) -> float:
    """Move a manual clock; the real seconds the advance took."""
    started = time.perf_counter()
    call(port, "POST", "/__mock/clock/advance", {"seconds": seconds})
    return time.perf_counter() - started


def tasks(port: int) -> list[dict[str, Any]]:
    """Every task the fake holds, following GET /__mock/tasks's pages to the last."""
    found: list[dict[str, Any]] = []
    after: str | None = "0"
    while after is not None:
        page = call(port, "GET", f"/__mock/tasks?limit={PAGE}&after={after}")
        found += page["tasks"]
        after = page["next"]
    return found


def deliveries(port: int) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = call(port, "GET", "/__mock/callbacks")["callbacks"]
    return found


def journal_length(port: int) -> int:
    return len(call(port, "GET", "/__mock/requests")["requests"])


def status_of(port: int, path: str) -> int:
    """The status of one GET (a result file, say), whatever it is."""
    with Connection(port, TIMEOUT) as conn:
        return conn.request("GET", path)[0]
