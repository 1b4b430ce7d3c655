"""The `mockserver` command as a user meets it: the banner and a ready line only once the port
serves (a port clash is one line), logs on stderr as text or JSON, one clear line for a bad
variable, a help that names every variable, and `--version` on all three commands."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from importlib.metadata import version

import httpx
import pytest
from click.testing import CliRunner

from client.cli import main as videogen
from contracts.cli import main as contracts
from mockserver.cli import main as mockserver
from mockserver.settings import Settings
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body

READY = "mockserver: ready on "
START_TIMEOUT = 20.0


@contextmanager
def command(*arguments: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    """`python -m mockserver ARGUMENTS` on loopback; stopped (killed if it must be) on exit."""
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    with subprocess.Popen(
        [sys.executable, "-m", "mockserver", "--host", "127.0.0.1", *arguments],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def read_until_ready(proc: subprocess.Popen[str]) -> tuple[list[str], str]:
    """The lines printed before the ready line, and the base URL it names."""
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"the command ended before it was ready: {lines}")
        if line.startswith(READY):
            return lines, line.removeprefix(READY).split()[0]
        lines.append(line.rstrip("\n"))
    raise AssertionError("no ready line in time")


@pytest.mark.slow
def test_the_ready_line_comes_once_the_port_serves_and_request_logs_go_to_stderr_as_json() -> None:
    with command("--port", "0", "--keys", "k1,k2", "--log-format", "json") as proc:
        banner, base = read_until_ready(proc)
        health = httpx.get(f"{base}/__mock/health", timeout=5)  # at once, no retry
        created = httpx.post(
            f"{base}{EVOLINK_CREATE}", json=evolink_body(), headers=AUTH | {"Authorization": "Bearer k2"}
        )
        proc.terminate()
        out, err = proc.communicate(timeout=10)
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert created.status_code == 200
    assert any("API keys           k1, k2" in line for line in banner)
    assert base.startswith("http://127.0.0.1:") and not base.endswith(":0")  # --port 0: the real port
    assert f"{base}/apiv1" in "\n".join(banner)
    records = [json.loads(line) for line in err.splitlines() if line.strip()]  # every line is JSON
    requests = [r for r in records if r["logger"] == "mockserver.requests"]
    assert requests and "POST /v1/videos/generations" in requests[0]["message"]
    assert {"time", "level", "logger", "message"} <= set(requests[0])
    assert "POST /v1/videos/generations" not in out  # logs are not on stdout


def test_a_port_in_use_is_one_line_on_stderr_a_failing_exit_and_no_banner() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with command("--port", str(port)) as proc:
            out, err = proc.communicate(timeout=START_TIMEOUT)
    assert proc.returncode == 1
    assert out == ""
    assert err.strip().splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"]


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("MOCKSERVER_QUEUE_SECONDS", "abc", "MOCKSERVER_QUEUE_SECONDS='abc': not a number"),
        ("MOCKSERVER_JOURNAL_LIMIT", "1.5", "MOCKSERVER_JOURNAL_LIMIT='1.5': not a whole number"),
        ("MOCKSERVER_STORE", "mysql://x", "store must be 'memory' or a URL redis://"),
    ],
)
def test_a_bad_variable_is_one_line_naming_it_before_anything_is_bound(
    variable: str, value: str, says: str
) -> None:
    result = CliRunner().invoke(mockserver, ["--port", "0"], env={variable: value})
    assert result.exit_code == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"Error: {says}")


def test_the_help_names_the_variable_of_every_setting() -> None:
    text = CliRunner().invoke(mockserver, ["--help"], terminal_width=100).output
    flat = " ".join(text.split())
    assert "[env var: MOCKSERVER_PORT;" in flat and "MOCKSERVER_QUEUE_SECONDS=2," in flat
    missing = [f.name for f in fields(Settings) if f"MOCKSERVER_{f.name.upper()}" not in flat]
    assert missing == ["log_requests"]  # set by --log-level, whose variable is MOCKSERVER_LOG_LEVEL
    assert "GET /__mock/health" in flat


@pytest.mark.parametrize(
    ("name", "main"), [("mockserver", mockserver), ("videogen", videogen), ("contracts", contracts)]
)
def test_each_command_tells_its_version(name: str, main: object) -> None:
    result = CliRunner().invoke(main, ["--version"])  # type: ignore[arg-type]
    assert result.exit_code == 0
    assert result.stdout == f"{name}, version {version('videogen-mock')}\n"
