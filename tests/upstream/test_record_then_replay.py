"""The whole loop of issue 19: a lifecycle recorded through the proxy (create, every poll, the
callback via the relay) comes back when the recording is replayed offline: the same status words,
progress and ETA at the same offsets on the fake clock, the callback at its offset; on the memory
and Redis stores, and followed by the reference client."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import EvolinkClient
from mockserver import create_app
from mockserver.transport import SyncASGITransport
from mockserver.upstream import har
from tests.helpers import AUTH, evolink_body, make_app
from tests.upstream.conftest import proxy_settings
from tests.upstream.servers import Receiver, loopback_socket, serving, url_of


def record_a_lifecycle(upstream: str, hooks: str, recording: Path) -> str:
    """Through a recording proxy with a relay: create with a callback URL, poll every 50 ms to the
    end, wait for the callback. The provider's task id."""
    sock = loopback_socket()
    settings = proxy_settings(
        upstreams=(f"evolink={upstream}",), public_url=url_of(sock), record=str(recording)
    )
    with serving(create_app(settings), sock) as proxy, httpx.Client(base_url=proxy, headers=AUTH) as http:
        body = evolink_body(duration=10, aspect_ratio="1:1", callback_url=f"{hooks}/hook")
        task = str(http.post("/v1/videos/generations", json=body).json()["id"])
        while http.get(f"/v1/tasks/{task}").json()["status"] not in ("completed", "failed"):
            time.sleep(0.05)
        deadline = time.monotonic() + 10
        while not any(e.kind == har.CALLBACK for e in har.read(recording)) and time.monotonic() < deadline:
            time.sleep(0.05)
    return task


def observed(body: dict[str, Any]) -> tuple[str, int, int | None]:
    return body["status"], body["progress"], body["task_info"].get("estimated_time")


@pytest.mark.usefixtures("each_store")
def test_a_lifecycle_recorded_through_the_proxy_comes_back_the_same_when_replayed(
    upstream_fake: str, receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    _, hooks = receiver
    recording = tmp_path / "real.har"
    task = record_a_lifecycle(upstream_fake, hooks, recording)
    exchanges = har.read(recording)
    create = next(e for e in exchanges if e.operation == "createVideoGeneration")
    polls = [
        (e.started - create.started, observed(e.response_body))
        for e in exchanges
        if e.operation == "getTaskDetail"
    ]
    [callback] = [e.started - create.started for e in exchanges if e.kind == har.CALLBACK]
    assert len(polls) > 10 and polls[-1][1][0] == "completed" and create.task == task

    sent: list[tuple[float, dict[str, Any]]] = []

    class Hooks(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            sent.append((replaying.state.mock.engine.now(), json.loads(await request.aread())))
            return httpx.Response(200, request=request)

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34"]

    replaying = make_app(
        replay=(str(recording),), resolver=resolve, callback_transport=Hooks(), settle_seconds=0.05
    )
    body = evolink_body(duration=10, aspect_ratio="1:1", callback_url="https://hooks.example.com/x")
    transport = SyncASGITransport(replaying)
    with httpx.Client(transport=transport, base_url="http://fake.test", headers=AUTH) as http:
        created = http.post("/v1/videos/generations", json=body).json()
        start = replaying.state.mock.engine.now()
        shown = []
        for offset, _ in polls:
            now = replaying.state.mock.engine.now()
            http.post("/__mock/clock/advance", json={"seconds": max(0.0, start + offset - now)})
            shown.append((offset, observed(http.get(f"/v1/tasks/{created['id']}").json())))
        http.post(
            "/__mock/clock/advance",
            json={"seconds": max(0.0, start + callback + 1 - replaying.state.mock.engine.now())},
        )
        transport.call(replaying.state.mock.runtime.stop)  # the store's connections closed
    assert shown == polls  # every poll's status word, progress and ETA, at its recorded offset
    assert created["id"] != task and observed(created) == observed(create.response_body)
    [(when, callback_body)] = sent
    assert when - start == pytest.approx(callback, abs=1e-6) and callback_body["status"] == "completed"
    assert callback_body["id"] == created["id"]


def test_the_reference_client_follows_a_recorded_lifecycle_offline(
    upstream_fake: str, receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    _, hooks = receiver
    recording = tmp_path / "real.har"
    record_a_lifecycle(upstream_fake, hooks, recording)
    recorded_words = [
        e.response_body["status"] for e in har.read(recording) if e.operation == "getTaskDetail"
    ]
    app = make_app(replay=(str(recording),), replay_strict=True)
    transport = SyncASGITransport(app)
    seen: list[str] = []
    clock = app.state.mock.engine
    control = httpx.Client(transport=transport, base_url="http://fake.test")

    def sleep(seconds: float) -> None:
        control.post("/__mock/clock/advance", json={"seconds": seconds})

    with (
        control,
        EvolinkClient(
            "mock-key", base_url="http://fake.test", transport=transport, sleep=sleep, monotonic=clock.now
        ) as videos,
    ):
        task = videos.generate(
            "A cat",
            "https://example.com/cat.jpg",
            duration=10,
            aspect_ratio="1:1",
            callback_url="https://hooks.example.com/x",
            on_progress=lambda t: seen.append(t.provider_status),
        )
    assert task.status.value == "succeeded"
    assert set(seen) <= set(recorded_words) and seen[-1] == "completed"
