"""Callbacks through the proxy (mockserver/upstream/relay.py): with a public URL the provider is
given the relay's address, its callback is recorded and reaches the original receiver, and the
provider gets the receiver's answer; without one the callback URL passes through and the report
says callbacks were not observed."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from mockserver import create_app
from mockserver.upstream import har
from tests.helpers import AUTH, client, evolink_body
from tests.upstream.conftest import proxy_settings
from tests.upstream.drifting import Drifting
from tests.upstream.servers import Receiver, loopback_socket, serving, url_of

pytestmark = pytest.mark.anyio


def wait_for(check: object, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.05)


def test_a_callback_is_relayed_recorded_and_answered_with_the_receivers_status(
    upstream_fake: str, receiver: tuple[Receiver, str], tmp_path: Path
) -> None:
    got, hooks = receiver
    got.status = 202
    recording = tmp_path / "run.har"
    sock = loopback_socket()
    public = url_of(sock)
    settings = proxy_settings(
        upstreams=(f"evolink={upstream_fake}",), public_url=public, record=str(recording)
    )
    with serving(create_app(settings), sock) as proxy, httpx.Client(base_url=proxy, headers=AUTH) as http:
        hook = f"{hooks}/hook?token=receiver-secret"
        task = http.post("/v1/videos/generations", json=evolink_body(callback_url=hook)).json()["id"]
        while http.get(f"/v1/tasks/{task}").json()["status"] not in ("completed", "failed"):
            time.sleep(0.05)
        (callback,) = got.wait(1)
        wait_for(lambda: http.get("/__mock/callbacks").json()["callbacks"][0]["state"] == "delivered")
        relayed = http.get("/__mock/callbacks").json()["callbacks"]
        report = http.get("/__mock/drift").json()
        upstream_sent = httpx.get(f"{upstream_fake}/__mock/callbacks").json()["callbacks"]
    assert callback["path"] == "/hook" and callback["body"]["id"] == task
    assert callback["body"]["status"] == "completed"
    # The provider was given the relay's address, and got the receiver's answer.
    assert upstream_sent[0]["url"].startswith(f"{public}/__mock/relay/evolink.")
    assert upstream_sent[0]["attempts"][0]["status_code"] == 202
    assert relayed[0]["url"] == hook and relayed[0]["task_id"] == task
    assert relayed[0]["attempts"][0]["outcome"] == "success"
    assert report["callbacks"] == 1 and report["drift"] is False, report
    recorded = har.read(recording)
    callbacks = [e for e in recorded if e.kind == har.CALLBACK]
    assert [(e.operation, e.task, e.status) for e in callbacks] == [("taskFinishedCallback", task, 202)]
    assert callbacks[0].url == f"{hooks}/hook?redacted"
    create = recorded[0]
    assert create.request_body["callback_url"] == f"{hooks}/hook?redacted"  # as the client sent it
    assert b"receiver-secret" not in recording.read_bytes()


async def test_without_a_public_url_the_callback_url_passes_through_and_the_report_says_so(
    upstream_fake: str,
) -> None:
    app = create_app(proxy_settings(upstreams=(f"evolink={upstream_fake}",)))
    hook = "http://127.0.0.1:9/hook"
    async with client(app) as http:
        task = (
            await http.post("/v1/videos/generations", json=evolink_body(callback_url=hook), headers=AUTH)
        ).json()
        report = (await http.get("/__mock/drift")).json()
    async with httpx.AsyncClient() as direct:
        theirs = (await direct.get(f"{upstream_fake}/__mock/tasks/{task['id']}")).json()
    assert theirs["callback_url"] == hook
    assert any("no public URL" in note for note in report["notes"]), report["notes"]
    assert any("asked for a callback and none was observed" in note for note in report["notes"])


async def test_a_callback_url_the_relay_may_not_reach_passes_through(drifting: tuple[Drifting, str]) -> None:
    upstream, base = drifting
    app = create_app(
        proxy_settings(
            upstreams=(f"evolink={base}",), public_url="https://proxy.example.com", allow_callback_hosts=()
        )
    )
    async with client(app) as http:
        created = await http.post(
            "/v1/videos/generations", json=evolink_body(callback_url="https://127.0.0.1/hook"), headers=AUTH
        )
        report = (await http.get("/__mock/drift")).json()
    ((_, callback_url, _),) = upstream.tasks.values()
    assert created.status_code == 200 and callback_url == "https://127.0.0.1/hook"
    assert any("may not reach" in note for note in report["notes"]), report["notes"]


async def test_a_callback_to_an_unknown_relay_address_answers_404(drifting: tuple[Drifting, str]) -> None:
    _, base = drifting
    app = create_app(proxy_settings(upstreams=(f"evolink={base}",), public_url="https://proxy.example.com"))
    async with client(app) as http:
        answer = await http.post("/__mock/relay/evolink.nosuchtoken", json={"id": "x"})
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


async def test_a_receiver_that_cannot_be_reached_gives_the_provider_502_saying_why(
    drifting: tuple[Drifting, str],
) -> None:
    upstream, base = drifting
    closed = loopback_socket()
    hook = f"{url_of(closed)}/hook"
    closed.close()
    app = create_app(proxy_settings(upstreams=(f"evolink={base}",), public_url="https://proxy.example.com"))
    async with client(app) as http:
        await http.post("/v1/videos/generations", json=evolink_body(callback_url=hook), headers=AUTH)
        ((_, relay_url, _),) = upstream.tasks.values()
        assert relay_url is not None and relay_url.startswith("https://proxy.example.com/__mock/relay/")
        answer = await http.post(relay_url.removeprefix("https://proxy.example.com"), json={"id": "x"})
        deliveries = (await http.get("/__mock/callbacks")).json()["callbacks"]
    assert answer.status_code == 502 and "ConnectError" in answer.headers["x-mock-problem"]
    assert deliveries[0]["state"] == "failed"
    assert deliveries[0]["attempts"][0]["outcome"] == "connection_error"
    assert json.loads(answer.text)["error"]["code"] == "bad_gateway"
