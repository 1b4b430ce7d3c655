"""Two fault kinds added as one record each (`engine/faults.py`), through every trigger: a task
that stalls (`X-Mock-Fail: stall;after=SECONDS`) and a callback that arrives before the task query
shows the end (`X-Mock-Callback: early=SECONDS`)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import AUTH, EVOLINK_CREATE, advance, client, evolink_body, make_app

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("each_store")]
CREATE = "createVideoGeneration"
TRIGGERS = ["header", "directive", "rule"]
HOOK = "https://hooks.example.com/done"


class Receiver(httpx.AsyncBaseTransport):
    """A callback receiver that answers 200 and keeps what it got, with the fake time it came."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        import json

        self.bodies.append(json.loads(await request.aread()))
        return httpx.Response(200, request=request)


async def resolve(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


async def create(http: httpx.AsyncClient, how: str, header: str, value: str, **body: Any) -> str:
    """A create carrying `value` through the trigger `how` (header `header`, its directive, a rule)."""
    headers, payload = dict(AUTH), evolink_body(**body)
    field = {"X-Mock-Fail": "fail", "X-Mock-Callback": "callback"}[header]
    if how == "header":
        headers[header] = value
    elif how == "directive":
        payload["prompt"] += f" [mock:{field}={value}]"
    else:
        armed = await http.post("/__mock/faults", json={"operation": CREATE, field: value})
        assert armed.status_code == 201, armed.text
        assert armed.json()[field] == value  # shown back in the same grammar
    created = await http.post(EVOLINK_CREATE, headers=headers, json=payload)
    assert created.status_code == 200, created.text
    return str(created.json()["id"])


async def poll(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    return dict((await http.get(f"/v1/tasks/{task_id}", headers=AUTH)).json())


@pytest.mark.parametrize("how", TRIGGERS)
async def test_a_stalled_task_stops_where_it_stood_until_the_control_plane_ends_it(how: str) -> None:
    receiver = Receiver()
    app = make_app(resolver=resolve, callback_transport=receiver, settle_seconds=0.05)
    async with client(app) as http:
        task_id = await create(http, how, "X-Mock-Fail", "stall;after=30", callback_url=HOOK)
        await advance(http, 30)
        stalled = await poll(http, task_id)
        await advance(http, 10_000)  # far past its natural end (79 s)
        later = await poll(http, task_id)
        shown = (await http.get(f"/__mock/tasks/{task_id}")).json()
        assert shown["ends_at"] is None and shown["status"] == "running"
        assert receiver.bodies == []  # a task that never ends never calls back
        completed = await http.post(f"/__mock/tasks/{task_id}/complete")
        await advance(http, 1)
        done = await poll(http, task_id)
    assert stalled["status"] == "processing" and 0 < stalled["progress"] < 99
    assert later == stalled
    assert completed.status_code == 200 and done["status"] == "completed" and done["progress"] == 100
    assert [body["status"] for body in receiver.bodies] == ["completed"]


async def test_a_stall_without_after_stops_at_99_where_it_would_have_completed() -> None:
    async with client(make_app()) as http:
        task_id = await create(http, "header", "X-Mock-Fail", "stall")
        await advance(http, 100)
        stuck = await poll(http, task_id)
        failed = await http.post(f"/__mock/tasks/{task_id}/fail", json={"code": "generation_timeout"})
        ended = await poll(http, task_id)
    assert stuck["status"] == "processing" and stuck["progress"] == 99
    assert failed.status_code == 200 and ended["error"]["code"] == "generation_timeout"


@pytest.mark.parametrize("how", TRIGGERS)
async def test_an_early_callback_arrives_with_the_end_while_the_task_query_still_runs(how: str) -> None:
    receiver = Receiver()
    app = make_app(resolver=resolve, callback_transport=receiver, settle_seconds=0.05)
    async with client(app) as http:
        task_id = await create(http, how, "X-Mock-Callback", "early=5", callback_url=HOOK)
        await advance(http, 79 - 5)
        polled = await poll(http, task_id)
        got = list(receiver.bodies)
        await advance(http, 5)
        done = await poll(http, task_id)
    assert [body["status"] for body in got] == ["completed"] and got[0]["id"] == task_id
    assert polled["status"] == "processing" and polled["progress"] < 100
    assert done == got[0]  # the callback carried the very body the query shows at the end
    assert len(receiver.bodies) == 1


@pytest.mark.parametrize(
    ("header", "value", "says"),
    [
        ("X-Mock-Fail", "stall;service_error", "cannot be combined"),
        ("X-Mock-Callback", "early=5;delay=3", "cannot be combined"),
        ("X-Mock-Callback", "early=5;drop", "cannot be combined"),
        ("X-Mock-Callback", "early=soon", "expected drop, duplicate, delay=SECONDS or early=SECONDS"),
    ],
)
async def test_the_new_kinds_refuse_what_cannot_be_combined(header: str, value: str, says: str) -> None:
    async with client(make_app()) as http:
        refused = await http.post(EVOLINK_CREATE, headers={**AUTH, header: value}, json=evolink_body())
    assert refused.status_code == 400 and says in refused.headers["x-mock-problem"]
