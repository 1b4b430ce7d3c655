"""Callbacks under `video_mock` go to the test's own app in-process, named by base URL (a
FastAPI handler, a Flask handler), retried on the documented schedule when it answers 500; to a
loopback receiver when the test allows one; and to nothing else: a callback to any other host
is not sent, with no lookup and no connection, and recorded as an unreachable receiver."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest
import requests
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from flask import Flask
from flask import request as flask_request
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route

from contracts.mock import VideoMock
from contracts.server import serve
from tests.plugin.apps import EVOLINK, HEADERS, create_body
from tests.plugin.conftest import Lookups

STATUSES = [500, 500, 200]  # the handlers' answers, in turn: two failures, then success
received: dict[str, list[dict[str, Any]]] = {"fastapi": [], "flask": []}

webhooks = FastAPI()


@webhooks.post("/webhooks/video")
async def fastapi_hook(request: Request) -> JSONResponse:
    body = await request.json()
    received["fastapi"].append({**body, "host": request.headers["host"]})
    async with httpx.AsyncClient(headers=HEADERS) as http:  # the handler asks the provider back
        task = (await http.get(f"{EVOLINK}/v1/tasks/{body['id']}")).json()
    return JSONResponse({"seen": task["status"]}, STATUSES[len(received["fastapi"]) - 1])


flask_app = Flask("webhooks")


@flask_app.post("/hooks/video")
def flask_hook() -> tuple[dict[str, Any], int]:
    body = flask_request.get_json()
    received["flask"].append({**body, "host": flask_request.host})
    task = requests.get(f"{EVOLINK}/v1/tasks/{body['id']}", headers=HEADERS, timeout=5).json()
    return {"seen": task["status"]}, STATUSES[len(received["flask"]) - 1]


@pytest.fixture(autouse=True)
def fresh_handlers() -> None:
    for calls in received.values():
        calls.clear()


def create(callback_url: str) -> str:
    answer = httpx.post(
        f"{EVOLINK}/v1/videos/generations",
        json=create_body("A cat", "https://example.com/c.jpg", callback_url),
        headers=HEADERS,
    )
    return str(answer.raise_for_status().json()["id"])


def run_to_the_end(video_mock: VideoMock) -> None:
    for _ in range(12):  # the task ends at 79 s; retries 1, 2 and 4 s after each failure
        video_mock.advance(10)


@pytest.mark.video_mock(
    callbacks={"https://myapp.example.com": webhooks, "https://hooks.example.com/": flask_app}
)
@pytest.mark.parametrize(
    ("handler", "url"),
    [
        ("fastapi", "https://myapp.example.com/webhooks/video"),
        ("flask", "https://hooks.example.com/hooks/video"),
    ],
)
def test_the_tests_own_app_receives_callbacks_in_process_with_retries(
    handler: str, url: str, lookups: Lookups, video_mock: VideoMock
) -> None:
    task_id = create(url)
    run_to_the_end(video_mock)
    calls = received[handler]
    assert [call["id"] for call in calls] == [task_id] * 3
    assert calls[0]["status"] == "completed" and calls[0]["host"] == url.split("/")[2]
    [delivery] = video_mock.callbacks()
    assert delivery["state"] == "delivered"
    assert [(a["outcome"], a["status_code"]) for a in delivery["attempts"]] == [
        ("http_error", 500),
        ("http_error", 500),
        ("success", 200),
    ]
    times = [a["time"] for a in delivery["attempts"]]
    assert [round(b - a, 3) for a, b in itertools.pairwise(times)] == [1, 2]  # the schedule
    assert lookups.hosts == []  # no lookup, no connection: the app ran in-process
    assert {e["operation"] for e in video_mock.requests()} == {"createVideoGeneration", "getTaskDetail"}


@pytest.mark.parametrize("url", ["https://myapp.example.com/webhooks/video", "https://8.8.8.8/hook"])
def test_a_callback_to_an_unnamed_host_is_not_sent(url: str, lookups: Lookups, video_mock: VideoMock) -> None:
    create(url)
    run_to_the_end(video_mock)
    [delivery] = video_mock.callbacks()
    assert delivery["state"] == "failed"
    assert [a["outcome"] for a in delivery["attempts"]] == ["connection_error"] * 4  # the whole schedule
    assert "not sent by video_mock" in delivery["attempts"][0]["detail"]
    assert lookups.hosts == []  # the name was not looked up, nothing was connected
    assert received == {"fastapi": [], "flask": []}


def test_a_loopback_receiver_gets_callbacks_when_the_test_allows_it(lookups: Lookups) -> None:
    from contracts.mock import video_mock

    got: list[bytes] = []

    async def receive(request: Any) -> Response:
        got.append(await request.body())
        return Response(status_code=204)

    receiver = Starlette(routes=[Route("/hook", receive, methods=["POST"])])
    with serve(receiver) as base, video_mock(allow_callback_hosts=["127.0.0.1"]) as mock:
        create(f"{base}/hook")
        run_to_the_end(mock)
        [delivery] = mock.callbacks()
    assert delivery["state"] == "delivered" and len(got) == 1
    assert set(lookups.hosts) == {"127.0.0.1"}
