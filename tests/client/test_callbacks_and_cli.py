"""Callback parsing and the receiver app; the `videogen` command against a running fake."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from rich.console import Console

from client import CallbackReceiver, Status, VideoTask, parse_callback
from client.cli import Reporter
from client.cli import main as videogen
from tests.helpers import AUTH, EVOLINK_CREATE, advance, client, evolink_body, live_server, make_app
from tests.media import probe

pytestmark = pytest.mark.anyio
BODY = {
    "created": 1767225600,
    "id": "task-unified-1767225600-abcdefgh",
    "model": "kling-o1-image-to-video",
    "object": "video.generation.task",
    "progress": 100,
    "results": ["https://cdn.example.com/v.mp4"],
    "status": "completed",
    "task_info": {"can_cancel": False},
    "type": "video",
}


async def test_parse_callback_reads_bytes_text_and_dicts() -> None:
    for body in (json.dumps(BODY).encode(), json.dumps(BODY), BODY):
        task = parse_callback(body)
        assert task.status is Status.SUCCEEDED and task.video_url == "https://cdn.example.com/v.mp4"


async def test_the_receiver_app_calls_the_handler_and_answers_per_outcome() -> None:
    got: list[VideoTask] = []

    async def handler(task: VideoTask) -> None:
        if task.id == "boom":
            raise RuntimeError("handler bug")
        got.append(task)

    app = CallbackReceiver(handler, path="/hook")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://r") as http:
        ok = await http.post("/hook", json=BODY)
        bad = await http.post("/hook", content=b"not json")
        wrong_method = await http.get("/hook")
        elsewhere = await http.post("/other", json=BODY)
        failing = await http.post("/hook", json={**BODY, "id": "boom"})
    assert ok.status_code == 200 and got[0].id == BODY["id"]
    assert (bad.status_code, wrong_method.status_code, elsewhere.status_code, failing.status_code) == (
        400,
        405,
        404,
        500,
    )


async def test_the_fake_delivers_to_the_receiver_app_and_a_500_gets_retried() -> None:
    got: list[VideoTask] = []
    calls = [0]

    def handler(task: VideoTask) -> None:
        calls[0] += 1
        if calls[0] == 1:
            raise RuntimeError("first delivery fails")
        got.append(task)

    receiver = httpx.ASGITransport(app=CallbackReceiver(handler))

    async def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    app = make_app(resolver=resolver, callback_transport=receiver, settle_seconds=1.0)
    async with client(app) as http:
        await http.post(
            EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url="https://hooks.example.com/x")
        )
        await advance(http, 81)
    assert calls[0] == 2 and got[0].status is Status.SUCCEEDED and got[0].video_url


def test_videogen_generates_and_downloads_against_a_running_fake_with_progress(tmp_path: Path) -> None:
    output = tmp_path / "cat.mp4"
    with live_server(make_app(clock="real", speed=300)) as base:
        result = CliRunner().invoke(
            videogen,
            [
                "--base-url",
                base,
                "--api-key",
                "mock-key",
                "--prompt",
                "A cat",
                "--image",
                "https://example.com/c.jpg",
                "--aspect-ratio",
                "9:16",
                "--duration",
                "10",
                "--interval",
                "0.05",
                "-o",
                str(output),
            ],
        )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("created task-unified-")
    progress = [line for line in lines if line.startswith("status=")]
    assert (
        progress[0] == "status=pending progress=0% ETA 79s"
        and progress[-1] == "status=completed progress=100%"
    )
    assert any(line.startswith("status=processing") for line in progress)
    assert lines[-1].startswith(f"saved {output}")
    found = probe(output.read_bytes())
    assert (found.aspect_ratio, round(found.duration)) == ("9:16", 10)


@pytest.mark.parametrize(
    ("arguments", "code", "text"),
    [
        (["--api-key", "wrong"], 3, "API error: 401"),
        (
            ["--api-key", "mock-key", "--prompt", "x [mock:fail=content_policy_violation]"],
            1,
            "failed: content_policy_violation",
        ),
        (["--api-key", "mock-key", "--timeout", "0.2"], 4, "timed out"),
        (["--api-key", "mock-key", "--image", "/no/such.png"], 2, "not a URL or an existing file"),
    ],
)
def test_videogen_exit_codes(arguments: list[str], code: int, text: str, tmp_path: Path) -> None:
    defaults: dict[str, Any] = {"--prompt": "A cat", "--image": "https://example.com/c.jpg"}
    for i in range(0, len(arguments), 2):
        defaults[arguments[i]] = arguments[i + 1]
    with live_server(make_app(clock="real", speed=200)) as base:
        argv = ["--base-url", base, "--interval", "0.05", "-o", str(tmp_path / "o.mp4")]
        argv += [part for pair in defaults.items() for part in pair]
        result = CliRunner().invoke(videogen, argv)
    assert result.exit_code == code, result.output
    assert text in result.stderr  # errors on stderr, so stdout stays the progress and the result


def test_videogen_without_a_key_names_the_option_and_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVOLINK_API_KEY", raising=False)
    result = CliRunner().invoke(videogen, ["--prompt", "A cat", "--image", "https://example.com/c.jpg"])
    assert result.exit_code == 2
    assert "Error: no API key: pass --api-key or set $EVOLINK_API_KEY" in result.stderr


def test_videogen_help_lists_the_exit_codes() -> None:
    text = " ".join(CliRunner().invoke(videogen, ["--help"]).output.split())
    assert "Exit codes: 0 saved; 1 the task failed; 2 a usage error" in text
    assert "3 the API refused or could not be reached; 4 the task did not finish" in text


def test_the_live_bar_shows_the_percent_and_the_eta() -> None:
    screen = io.StringIO()
    with Reporter(Console(file=screen, force_terminal=True, width=100)) as report:
        report(VideoTask("t", "evolink", Status.RUNNING, "processing", progress=40, eta_seconds=47))
    shown = screen.getvalue()
    assert "processing" in shown and " 40%" in shown and "ETA 47s" in shown
