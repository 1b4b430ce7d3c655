"""The contract suite fails on purpose-broken variants of the fake, and `contracts check`
exits 0 against the fake on a port (a line per operation, JUnit names per provider and
operation), 1 against a broken one, and 2 when the URL does not answer."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import click
import httpx
import pytest
from click.testing import CliRunner

from contracts.cli import check
from contracts.cli import main as contracts_main
from mockserver import Settings, create_app
from tests.contracts import broken
from tests.helpers import free_port, live_server

ROOT = Path(__file__).resolve().parents[2]
QUICK = {"CONTRACTS_PROVIDERS": "evolink", "CONTRACTS_MAX_EXAMPLES": "15", "CONTRACTS_STATEFUL_EXAMPLES": "5"}


def run_suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, app: str) -> pytest.RunResult:
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("CONTRACTS_APP", f"tests.contracts.broken:{app}")
    for name, value in QUICK.items():
        monkeypatch.setenv(name, value)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-x", "--pyargs", "contracts.suite")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("variant", "caught_by"),
    [
        ("wrong_status_word", "response_schema_conformance"),
        ("missing_field", "response_schema_conformance"),
        ("accepts_invalid_body", "negative_data_rejection"),
        ("progress_falls", "progress fell"),
        ("wrong_error_envelope", "error envelope"),
    ],
)
def test_the_suite_catches_a_purpose_broken_fake(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, variant: str, caught_by: str
) -> None:
    assert callable(getattr(broken, variant))
    result = run_suite(pytester, monkeypatch, variant)
    output = result.stdout.str()
    assert result.ret != 0, output
    summaries = {
        "response_schema_conformance": "Response violates schema",
        "negative_data_rejection": "Schema-violating request accepted",
        "progress fell": "progress fell",
        "error envelope": "error envelope",
    }
    assert summaries[caught_by] in output, output[-3000:]


def contracts_check(base_url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "contracts",
        "check",
        "--base-url",
        base_url,
        "--key",
        "mock-key",
        "--max-examples",
        "10",
        "--stateful-examples",
        "3",
        *extra,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)


@pytest.mark.slow
def test_contracts_check_exits_0_against_the_fake_on_a_port_with_a_junit_report(tmp_path: Path) -> None:
    app = create_app(Settings(clock="real", speed=200, keys=("mock-key", "contracts-other-key"), seed=3))
    report = tmp_path / "junit.xml"
    with live_server(app) as base:
        done = contracts_check(base, "--junit", str(report))
    assert done.returncode == 0, done.stdout[-3000:]
    lines = done.stdout.splitlines()
    assert lines[0] == f"contracts check: {base} (aimlapi, evolink)"
    checked = [line.split() for line in lines if line.startswith("  ")]
    assert [(words[0], words[1], words[2]) for words in checked] == [
        ("aimlapi", "POST", "/v2/video/generations"),
        ("aimlapi", "GET", "/v2/video/generations"),
        ("aimlapi", "stateful:", "create"),
        ("evolink", "POST", "/v1/videos/generations"),
        ("evolink", "GET", "/v1/tasks/{task_id}"),
        ("evolink", "stateful:", "create"),
    ]
    assert all("passed" in words and "examples" in " ".join(words) for words in checked)
    assert lines[-1] == "6 checked: 6 passed, 0 failed"
    assert "[" not in done.stdout and "site-packages" not in done.stdout  # no dots, no file paths
    suite = ElementTree.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("name") == "contracts" and suite.get("failures") == "0"
    cases = [(case.get("classname"), case.get("name")) for case in suite.iter("testcase")]
    assert cases[:3] == [
        ("contracts.aimlapi", "aimlapi POST /v2/video/generations"),
        ("contracts.aimlapi", "aimlapi GET /v2/video/generations"),
        ("contracts.aimlapi", "aimlapi stateful: create -> retrieve, by links"),
    ]
    assert len({name for _, name in cases}) == len(cases) == 6


@contextlib.contextmanager
def broken_server(variant: str) -> Iterator[str]:
    """A broken variant on a loopback port, in its own process (its patches stay there)."""
    port = free_port()
    code = (
        f"import uvicorn; from tests.contracts.broken import {variant}; "
        f"uvicorn.run({variant}(), host='127.0.0.1', port={port}, log_level='warning')"
    )
    with subprocess.Popen([sys.executable, "-c", code], cwd=ROOT) as process:
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/__mock/clock", timeout=1)
                    break
                except httpx.TransportError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        raise
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(10)


@pytest.mark.slow
def test_contracts_check_exits_non_zero_against_a_broken_fake() -> None:
    with broken_server("missing_field") as base:
        done = contracts_check(base, "--provider", "evolink", "--no-negative")
    assert done.returncode == 1
    assert "Response violates schema" in done.stdout
    failed = [line.split(" FAILED ")[0].split() for line in done.stdout.splitlines() if " FAILED " in line]
    assert failed == [["evolink", "stateful:", "create", "->", "retrieve,", "by", "links"]]
    assert done.stdout.splitlines()[-2:] == [
        "3 checked: 2 passed, 1 failed",
        "  does not conform: evolink stateful: create -> retrieve, by links",
    ]


def test_contracts_check_of_a_url_that_does_not_answer_is_one_line_and_exit_code_2() -> None:
    done = contracts_check(f"http://127.0.0.1:{free_port()}")
    assert done.returncode == 2
    assert done.stdout == ""
    [line] = done.stderr.splitlines()
    assert line.startswith("contracts check: http://127.0.0.1:") and "does not answer (" in line


def test_contracts_check_help_explains_every_option_and_the_exit_codes() -> None:
    result = CliRunner().invoke(contracts_main, ["check", "--help"], terminal_width=200)
    options = [param for param in check.params if isinstance(param, click.Option)]
    assert all(option.help for option in options)
    assert "Exit codes: 0 conforms; 1 does not conform" in result.output
    assert "2 could not check" in result.output
