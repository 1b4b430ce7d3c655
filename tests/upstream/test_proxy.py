"""The validating proxy (mockserver/upstream/proxy.py): a proxied provider's requests reach its
upstream as the client sent them (under the mount, with the caller's key, without the fake's
headers) and come back as the upstream answered; the journal and verdicts see them; what the
proxy answers itself (413, the budget's 429, 502) is in the provider's own dialect."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver import create_app
from mockserver.store.memory import MemoryStore
from tests.helpers import AUTH, aimlapi_body, client, evolink_body
from tests.upstream.conftest import proxy_settings
from tests.upstream.drifting import Drifting, task_body
from tests.upstream.harschema import har_problems
from tests.upstream.servers import Receiver, loopback_socket, serving, url_of

pytestmark = pytest.mark.anyio
TASK = "task-unified-1767225600-abcdefgh"


class Echo:
    """An upstream that keeps each request as it arrived and answers a valid task body."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def app(self) -> Starlette:
        async def any_path(request: Request) -> Response:
            self.seen.append(
                {
                    "method": request.method,
                    "path": request.url.path,
                    "query": request.url.query,
                    "headers": request.headers.raw,
                    "body": await request.body(),
                }
            )
            body = task_body(TASK, 1767225600, "processing", 40)
            return JSONResponse(body, headers={"X-Request-Id": "req-1", "Connection": "keep-alive"})

        return Starlette(routes=[Route("/{path:path}", any_path, methods=["GET", "POST"])])


@pytest.fixture
def echo() -> Iterator[tuple[Echo, str]]:
    upstream = Echo()
    with serving(upstream.app(), loopback_socket()) as base:
        yield upstream, base


async def test_a_proxied_provider_answers_as_its_upstream_and_the_others_stay_faked(
    upstream_fake: str,
) -> None:
    app = create_app(proxy_settings(upstreams=(f"evolink={upstream_fake}",)))
    async with client(app) as http:
        created = await http.post("/v1/videos/generations", json=evolink_body(), headers=AUTH)
        faked = await http.post("/v2/video/generations", json=aimlapi_body(), headers=AUTH)
        mine = (await http.get("/__mock/tasks")).json()["tasks"]
    async with httpx.AsyncClient() as direct:
        theirs = (await direct.get(f"{upstream_fake}/__mock/tasks")).json()["tasks"]
    assert created.status_code == 200 and faked.status_code == 200
    assert [t["id"] for t in theirs] == [created.json()["id"]]  # the upstream made it
    assert [t["id"] for t in mine] == [faked.json()["id"]]  # the fake kept its own provider


async def test_a_request_reaches_the_upstream_under_its_mount_with_the_callers_key_and_no_mock_headers(
    echo: tuple[Echo, str],
) -> None:
    upstream, base = echo
    app = create_app(proxy_settings(upstreams=(f"evolink={base}/apiv1",)))
    headers = {
        **AUTH,
        "Authorization": "Bearer sk-callers-own-key",
        "X-Mock-Fault": "503",
        "X-Custom": "kept",
        "Connection": "X-Custom, close",
        "Keep-Alive": "timeout=5",
        "Accept-Encoding": "br",
    }
    async with client(app) as http:
        answer = await http.get(f"/apiv1/v1/tasks/{TASK}", params={"x": "1 2"}, headers=headers)
        direct = await http.get(f"/v1/tasks/{TASK}", headers=AUTH)
    (mirrored, plain) = upstream.seen
    assert (mirrored["path"], mirrored["query"]) == (f"/apiv1/v1/tasks/{TASK}", "x=1+2")
    assert plain["path"] == f"/apiv1/v1/tasks/{TASK}"
    sent = {name.decode().lower(): value.decode() for name, value in mirrored["headers"]}
    assert sent["authorization"] == "Bearer sk-callers-own-key"
    assert not {"x-mock-fault", "x-custom", "keep-alive"} & set(sent)
    assert sent.get("accept-encoding") != "br"  # httpx asks for what it decodes
    assert answer.status_code == 200 and answer.json()["id"] == TASK
    assert answer.headers["x-request-id"] == "req-1"
    assert answer.headers["content-length"] == str(len(answer.content))
    assert "X-Mock-Fault not applied" in answer.headers["x-mock-problem"]
    assert direct.status_code == 200 and "x-mock-problem" not in direct.headers


async def test_proxied_requests_are_journaled_with_their_task_and_its_neutral_status(
    upstream_fake: str,
) -> None:
    app = create_app(proxy_settings(upstreams=(f"evolink={upstream_fake}",)))
    async with client(app) as http:
        task = (await http.post("/v1/videos/generations", json=evolink_body(), headers=AUTH)).json()["id"]
        for _ in range(3):  # polled at once, three times
            await http.get(f"/v1/tasks/{task}", headers=AUTH)
        await http.get("/v1/tasks/task-unified-1767225600-nosuchid", headers=AUTH)
        journal = (await http.get("/__mock/requests", params={"provider": "evolink"})).json()["requests"]
        verdicts = (await http.get("/__mock/verdicts", params={"min_poll_interval": 5})).json()
    assert [(e["operation"], e["status"], e["task"]) for e in journal] == [
        ("createVideoGeneration", 200, task),
        ("getTaskDetail", 200, task),
        ("getTaskDetail", 200, task),
        ("getTaskDetail", 200, task),
        ("getTaskDetail", 404, None),
    ]
    assert journal[0]["task_status"] == "queued" and journal[1]["task_status"] in ("queued", "running")
    assert journal[0]["key"] == journal[1]["key"] is not None
    polled = next(v for v in verdicts["verdicts"] if v["check"] == "poll_too_fast")
    assert not polled["passed"]


def refused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there now


@pytest.mark.parametrize(
    ("errors", "status", "body"),
    [
        ("seed", 502, {"code": 502, "message": "Upstream AI service unavailable"}),
        ("current", 500, {"code": "internal_error", "message": "Internal server error"}),  # no 502 documented
    ],
)
async def test_an_unreachable_upstream_answers_the_providers_own_502_saying_why(
    errors: str, status: int, body: dict[str, Any]
) -> None:
    app = create_app(
        proxy_settings(upstreams=(f"evolink=http://127.0.0.1:{refused_port()}",), evolink_errors=errors)
    )
    async with client(app) as http:
        answer = await http.post("/v1/videos/generations", json=evolink_body(), headers=AUTH)
        report = (await http.get("/__mock/drift")).json()
    assert answer.status_code == status
    assert {k: answer.json()["error"][k] for k in body} == body
    assert "connection refused" in answer.headers["x-mock-problem"]
    assert report["exchanges"] == 0  # nothing came back to check


async def test_an_unreachable_aimlapi_upstream_answers_its_502_envelope() -> None:
    app = create_app(proxy_settings(upstreams=(f"aimlapi=http://127.0.0.1:{refused_port()}",)))
    async with client(app) as http:
        answer = await http.get("/v2/video/generations", params={"generation_id": "x"}, headers=AUTH)
    assert answer.status_code == 502 and answer.json()["statusCode"] == 502
    assert answer.headers["x-mock-problem"].endswith("connection refused")


async def test_an_upstream_that_does_not_answer_in_time_answers_502_timed_out() -> None:
    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        app = create_app(proxy_settings(upstreams=(f"evolink={url}",), upstream_timeout=0.3))
        async with client(app) as http:
            answer = await http.get(f"/v1/tasks/{TASK}", headers=AUTH)
    assert answer.status_code == 502 and "timed out" in answer.headers["x-mock-problem"]


async def test_an_upstream_that_does_not_speak_tls_answers_502_tls(echo: tuple[Echo, str]) -> None:
    _, base = echo
    app = create_app(proxy_settings(upstreams=(f"evolink={base.replace('http:', 'https:')}",)))
    async with client(app) as http:
        answer = await http.get(f"/v1/tasks/{TASK}", headers=AUTH)
    assert answer.status_code == 502 and "TLS" in answer.headers["x-mock-problem"]


async def test_a_body_over_the_limit_answers_413_and_reaches_no_upstream(echo: tuple[Echo, str]) -> None:
    upstream, base = echo
    app = create_app(proxy_settings(upstreams=(f"evolink={base}",), max_body_bytes=100))
    async with client(app) as http:
        answer = await http.post("/v1/videos/generations", json=evolink_body(prompt="x" * 200), headers=AUTH)
    assert answer.status_code == 413 and answer.json()["error"]["code"] == 413
    assert upstream.seen == []


async def test_the_budget_refuses_create_n_plus_one_and_forwards_nothing_beyond_it(
    drifting: tuple[Drifting, str], caplog: pytest.LogCaptureFixture
) -> None:
    upstream, base = drifting
    store = MemoryStore()
    settings = proxy_settings(upstreams=(f"evolink={base}",), max_creates=2)
    first, second = create_app(settings, store=store), create_app(settings, store=store)  # one shared store
    async with client(first) as one, client(second) as two:
        answers = [
            await one.post("/v1/videos/generations", json=evolink_body(), headers=AUTH),
            await two.post("/v1/videos/generations", json=evolink_body(), headers=AUTH),
        ]
        await one.post("/__mock/reset")  # a reset does not refill the budget
        answers.append(await two.post("/v1/videos/generations", json=evolink_body(), headers=AUTH))
        answers.append(await one.post("/v1/videos/generations", json=evolink_body(), headers=AUTH))
        polled = await one.get(f"/v1/tasks/{answers[0].json()['id']}", headers=AUTH)
        report = (await two.get("/__mock/drift")).json()
    assert [a.status_code for a in answers] == [200, 200, 429, 429]
    refused = answers[2]
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert "MOCKSERVER_MAX_CREATES=2 (--max-creates)" in refused.headers["x-mock-problem"]
    assert upstream.creates == 2  # the upstream got no more
    assert polled.status_code == 200  # task queries are not creates
    assert report["budget"] == {"max_creates": 2, "refused": 1}
    lines = [r.getMessage() for r in caplog.records if r.name == "mockserver.upstream"]
    assert sum("budget spent" in line for line in lines) == 2


async def test_a_budget_of_zero_forwards_no_create(drifting: tuple[Drifting, str]) -> None:
    upstream, base = drifting
    app = create_app(proxy_settings(upstreams=(f"evolink={base}",), max_creates=0))
    async with client(app) as http:
        answer = await http.post("/v1/videos/generations", json=evolink_body(), headers=AUTH)
    assert answer.status_code == 429 and upstream.creates == 0


async def test_the_budgets_count_survives_a_reset_on_every_store(store: Any) -> None:
    await store.open()
    assert [await store.tally("upstream:creates") for _ in range(2)] == [1, 2]
    await store.reset((await store.load_clock()) or _clock())
    assert await store.tally("upstream:creates") == 3


def _clock() -> Any:
    from mockserver.engine import starting_state

    return starting_state("manual", 1.0, 0.0)


async def test_the_reference_client_runs_a_lifecycle_through_the_proxy_into_a_har_recording(
    upstream_fake: str, receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    from client import AsyncEvolinkClient, PollSettings, Status

    got, hooks = receiver
    recording, sock = tmp_path / "client.har", loopback_socket()
    public = url_of(sock)
    app = create_app(
        proxy_settings(upstreams=(f"evolink={upstream_fake}",), public_url=public, record=str(recording))
    )
    polling = PollSettings(interval=0.1, min_interval=0.05, max_interval=0.2, timeout=20)
    with serving(app, sock) as proxy:
        async with AsyncEvolinkClient(api_key="mock-key", base_url=proxy, poll=polling) as video:
            done = await video.generate(
                "A cat walking", "https://example.com/cat.jpg", callback_url=f"{hooks}/hook"
            )
        await asyncio.to_thread(got.wait, 1)
        async with httpx.AsyncClient(base_url=proxy) as http:
            for _ in range(100):  # the relayed callback is recorded once its receiver has answered
                report = (await http.get("/__mock/drift")).json()
                if report["callbacks"]:
                    break
                await asyncio.sleep(0.05)
    assert done.status is Status.SUCCEEDED and done.provider_status == "completed" and done.video_url
    assert got.got[0]["body"]["id"] == done.id
    assert report["drift"] is False and report["tasks"] == 1 and report["callbacks"] == 1, report
    document = json.loads(recording.read_bytes())
    assert har_problems(document) == []
    kinds = [(entry["_kind"], entry["_operation"]) for entry in document["log"]["entries"]]
    assert kinds[0] == ("request", "createVideoGeneration") and ("callback", "taskFinishedCallback") in kinds
    assert {operation for _, operation in kinds} == {
        "createVideoGeneration",
        "getTaskDetail",
        "taskFinishedCallback",
    }


@pytest.fixture(autouse=True)
def _quiet(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mockserver.upstream")


def test_a_fake_with_no_upstream_never_loads_httpx() -> None:
    code = "import sys; from mockserver import create_app; create_app(); print('httpx' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "False"
