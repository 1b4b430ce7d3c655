"""Injected faults over HTTP: each kind (status, delay, reset, lost, truncate, combinations)
through each trigger (the `X-Mock-Fault` header, the `[mock:fault=...]` prompt directive, a
control-plane rule), rule scopes (operation, key, count, probability), and planned failures
anywhere in a task's life (`X-Mock-Fail: CODE;after=SECONDS`).

In-process the transports raise what httpx raises when a real server drops a connection; the
live-server tests prove the real server drops it so.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from mockserver.engine.ids import fingerprint
from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    EVOLINK_CREATE,
    KEY,
    OTHER_AUTH,
    OTHER_KEY,
    advance,
    aimlapi_body,
    client,
    evolink_body,
    live_server,
    make_app,
    state_of,
)

# every store keeps these the same way (the Redis store's in Lua)
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("each_store")]


CREATE, RETRIEVE = "createVideoGeneration", "getTaskDetail"
TRIGGERS = ["header", "directive", "rule"]


async def create_with(http: httpx.AsyncClient, how: str, fault: str, **body: Any) -> httpx.Response:
    """A create meeting `fault` through the trigger `how`."""
    headers, payload = dict(AUTH), evolink_body(**body)
    if how == "header":
        headers["X-Mock-Fault"] = fault
    elif how == "directive":
        payload["prompt"] += f" [mock:fault={fault}]"
    else:
        armed = await http.post("/__mock/faults", json={"operation": CREATE, "fault": fault})
        assert armed.status_code == 201, armed.text
    return await http.post(EVOLINK_CREATE, headers=headers, json=payload)


async def tasks(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await http.get("/__mock/tasks")).json()["tasks"])


async def journal(http: httpx.AsyncClient, **filters: Any) -> list[dict[str, Any]]:
    return list((await http.get("/__mock/requests", params=filters)).json()["requests"])


# -- the kinds, through each trigger ---------------------------------------------------------


@pytest.mark.parametrize("how", TRIGGERS)
async def test_a_status_fault_answers_the_providers_error_and_does_nothing(how: str) -> None:
    async with client(make_app()) as http:
        response = await create_with(http, how, "503")
        assert response.status_code == 503
        assert response.json()["error"]["code"]  # the provider's own envelope
        assert await tasks(http) == []
        [entry] = await journal(http)
    assert entry["status"] == 503 and entry["fault"] == "503" and entry["task"] is None


@pytest.mark.parametrize("how", TRIGGERS)
async def test_a_delay_answers_normally_that_many_real_seconds_late(how: str) -> None:
    async with client(make_app()) as http:
        started = time.perf_counter()
        response = await create_with(http, how, "delay=0.3")
        waited = time.perf_counter() - started
        assert response.status_code == 200 and waited >= 0.3
        assert len(await tasks(http)) == 1
        [entry] = await journal(http)
    assert entry["fault"] == "delay=0.3" and entry["duration_ms"] >= 300 and entry["status"] == 200


async def test_a_status_with_a_delay_answers_the_status_late() -> None:
    async with client(make_app()) as http:
        started = time.perf_counter()
        response = await create_with(http, "header", "503;delay=0.2")
        assert response.status_code == 503 and time.perf_counter() - started >= 0.2
        [entry] = await journal(http)
    assert entry["fault"] == "503;delay=0.2"


@pytest.mark.parametrize("how", TRIGGERS)
async def test_reset_closes_the_connection_before_anything_is_done(how: str) -> None:
    async with client(make_app()) as http:
        with pytest.raises(httpx.ReadError):
            await create_with(http, how, "reset")
        assert await tasks(http) == []
        [entry] = await journal(http)
    assert entry["status"] is None and entry["fault"] == "reset" and entry["task"] is None


@pytest.mark.parametrize("how", TRIGGERS)
async def test_lost_creates_and_bills_the_task_then_closes_without_an_answer(how: str) -> None:
    app = make_app(credits=100)
    async with client(app) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            await create_with(http, how, "lost")
        [task] = await tasks(http)
        [entry] = await journal(http)
        balance = await state_of(app).engine.balance(fingerprint(KEY), "evolink")
    assert balance == 100 - 7  # billed: 5 s cost 7 credits
    assert entry["status"] is None and entry["fault"] == "lost" and entry["task"] == task["id"]


@pytest.mark.parametrize("how", TRIGGERS)
async def test_truncate_does_the_work_and_sends_part_of_the_answer(how: str) -> None:
    async with client(make_app()) as http:
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            await create_with(http, how, "truncate")
        assert len(await tasks(http)) == 1
        [entry] = await journal(http)
    assert entry["status"] == 200 and entry["fault"] == "truncate"


async def test_reads_take_the_same_faults_but_lost_only_applies_to_creates() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        path = f"/v1/tasks/{task['id']}"
        with pytest.raises(httpx.ReadError):
            await http.get(path, headers={**AUTH, "X-Mock-Fault": "reset"})
        with pytest.raises(httpx.RemoteProtocolError):
            await http.get(path, headers={**AUTH, "X-Mock-Fault": "truncate"})
        lost = await http.get(path, headers={**AUTH, "X-Mock-Fault": "lost"})
        assert lost.status_code == 400 and lost.json()["error"]["param"] == "X-Mock-Fault"
        generation = (await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())).json()
        aimlapi = await http.get(
            AIMLAPI_PATH, params={"generation_id": generation["id"]}, headers={**AUTH, "X-Mock-Fault": "lost"}
        )
        assert (
            aimlapi.status_code == 400 and "lost applies to creates only" in aimlapi.headers["x-mock-problem"]
        )
        armed = await http.post("/__mock/faults", json={"operation": RETRIEVE, "fault": "lost"})
        assert armed.status_code == 400 and "lost applies to creates only" in armed.text
        assert (await http.get(path, headers=AUTH)).status_code == 200  # nothing left armed


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("banana", "expected STATUS, delay=SECONDS, reset, lost or truncate"),
        ("418", "'418' is not one of"),
        ("200", "'200' is not one of"),
        ("delay=1e9", "expected STATUS"),
        ("delay=121", "at most 120 seconds"),
        ("503;reset", "cannot be combined"),
        ("reset;truncate", "truncate cannot be combined with reset"),
        ("", "empty"),
        ("٥٠٣", "expected STATUS"),  # Arabic-Indic digits are not a status
    ],
)
async def test_a_fault_outside_the_grammar_is_the_providers_400_naming_the_trigger(
    value: str, says: str
) -> None:
    header = {"X-Mock-Fault": value.encode()}
    async with client(make_app()) as http:
        evolink = await http.post(EVOLINK_CREATE, headers={**AUTH, **header}, json=evolink_body())
        directive = await http.post(
            EVOLINK_CREATE, headers=AUTH, json=evolink_body(prompt=f"a cat [mock:fault={value or 'x'}]")
        )
        aimlapi = await http.post(AIMLAPI_PATH, headers={**AUTH, **header}, json=aimlapi_body())
        assert await tasks(http) == []
    # EvoLink's 400 names the parameter in fixed words, the AI/ML API's says why; so does X-Mock-Problem
    assert evolink.status_code == 400 and evolink.json()["error"]["param"] == "X-Mock-Fault"
    assert directive.status_code == 400 and directive.json()["error"]["param"] == "prompt"
    assert aimlapi.status_code == 400 and "X-Mock-Fault: " in aimlapi.json()["message"]
    assert says in aimlapi.json()["message"] or not value
    for response in (evolink, aimlapi):
        assert response.headers["x-mock-problem"].startswith("X-Mock-Fault: ")
        assert says in response.headers["x-mock-problem"]
    assert directive.headers["x-mock-problem"].startswith("prompt: ")


# -- rule scopes -------------------------------------------------------------------------------


async def test_a_rule_applies_to_its_operation_only_and_for_its_count() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        rule = (
            await http.post("/__mock/faults", json={"operation": RETRIEVE, "status": 502, "count": 2})
        ).json()
        assert rule["remaining"] == 2 and rule["fault"] == "502" and rule["operation"] == RETRIEVE
        assert (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).status_code == 200
        statuses = [(await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)).status_code for _ in range(3)]
        assert (await http.get("/__mock/faults")).json()["faults"] == []
    assert statuses == [502, 502, 200]


async def test_a_rule_with_a_key_applies_to_that_key_only() -> None:
    async with client(make_app()) as http:
        await http.post("/__mock/faults", json={"operation": CREATE, "status": 503, "key": OTHER_KEY})
        mine = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        theirs = await http.post(EVOLINK_CREATE, headers=OTHER_AUTH, json=evolink_body())
        left = (await http.get("/__mock/faults")).json()["faults"]
    assert mine.status_code == 200 and theirs.status_code == 503
    assert left == []  # spent by the other key's request


async def test_a_rule_without_an_operation_meets_every_provider_operation() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        await http.post("/__mock/faults", json={"fault": "reset", "count": 2})
        with pytest.raises(httpx.ReadError):
            await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)
        with pytest.raises(httpx.ReadError):
            await http.post("/v2/video/generations", headers=AUTH, json={"model": "x"})
        without = await http.post("/__mock/faults", json={"status": 503})
    assert without.status_code == 400 and "needs the operation" in without.text


async def test_a_rules_429_and_503_carry_retry_after() -> None:
    async with client(make_app()) as http:
        await http.post("/__mock/faults", json={"operation": CREATE, "status": 429})
        await http.post("/__mock/faults", json={"operation": CREATE, "status": 503, "retry_after": 7})
        limited = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        unavailable = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        entries = await journal(http)
    assert limited.headers["retry-after"] == "1" and unavailable.headers["retry-after"] == "7"
    assert [e["retry_after"] for e in entries] == [1, 7]


async def hits(seed: int, probability: float, requests: int = 40) -> list[bool]:
    async with client(make_app(seed=seed)) as http:
        rule = {"operation": CREATE, "status": 503, "count": 1000, "probability": probability}
        assert (await http.post("/__mock/faults", json=rule)).status_code == 201
        statuses = [
            (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).status_code
            for _ in range(requests)
        ]
        [armed] = (await http.get("/__mock/faults")).json()["faults"]
    assert armed["matched"] == requests and armed["remaining"] == 1000 - statuses.count(503)
    return [status == 503 for status in statuses]


async def test_a_rule_with_a_probability_replays_the_same_for_the_same_seed() -> None:
    first, again, other = await hits(7, 0.5), await hits(7, 0.5), await hits(8, 0.5)
    assert first == again
    assert first != other
    assert 8 <= first.count(True) <= 32  # about half
    assert not any(await hits(7, 0.000001)) and all(await hits(7, 1.0))


# -- planned failures anywhere in the lifecycle ----------------------------------------------


async def poll(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    return dict((await http.get(f"/v1/tasks/{task_id}", headers=AUTH)).json())


@pytest.mark.parametrize("how", TRIGGERS)
async def test_a_failure_after_0_fails_at_once_while_queued_with_progress_0(how: str) -> None:
    fail = "content_policy_violation;after=0"
    async with client(make_app()) as http:
        headers, body = dict(AUTH), evolink_body()
        if how == "header":
            headers["X-Mock-Fail"] = fail
        elif how == "directive":
            body["prompt"] += f" [mock:fail={fail}]"
        else:
            await http.post("/__mock/faults", json={"operation": CREATE, "fail": fail})
        created = (await http.post(EVOLINK_CREATE, headers=headers, json=body)).json()
        task = await poll(http, created["id"])
    assert task["status"] == "failed" and task["progress"] == 0
    assert task["error"]["code"] == "content_policy_violation"


async def test_a_failure_after_seconds_fails_then_mid_run() -> None:
    async with client(make_app()) as http:
        headers = {**AUTH, "X-Mock-Fail": "generation_timeout;after=30"}
        created = (await http.post(EVOLINK_CREATE, headers=headers, json=evolink_body())).json()
        await advance(http, 29)
        running = await poll(http, created["id"])
        await advance(http, 1)
        failed = await poll(http, created["id"])
    assert running["status"] == "processing"
    assert failed["status"] == "failed" and 0 < failed["progress"] < 99
    assert failed["error"]["code"] == "generation_timeout"


async def test_a_failure_after_its_natural_end_fails_at_the_natural_end() -> None:
    async with client(make_app()) as http:
        headers = {**AUTH, "X-Mock-Fail": "service_error;after=1000"}
        created = (await http.post(EVOLINK_CREATE, headers=headers, json=evolink_body())).json()
        await advance(http, 79)
        failed = await poll(http, created["id"])
    assert failed["status"] == "failed" and failed["progress"] == 99


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("nope", "not a failure code"),
        ("service_error;after=x", "expected stall, CODE or after=SECONDS"),
        (";after=1", "CODE"),
    ],
)
async def test_a_failure_outside_the_grammar_is_a_400(value: str, says: str) -> None:
    async with client(make_app()) as http:
        evolink = await http.post(EVOLINK_CREATE, headers={**AUTH, "X-Mock-Fail": value}, json=evolink_body())
        rule = await http.post("/__mock/faults", json={"operation": CREATE, "fail": value})
    assert evolink.status_code == 400 and evolink.json()["error"]["param"] == "X-Mock-Fail"
    assert says in evolink.headers["x-mock-problem"]
    assert rule.status_code == 400 and says in rule.text


async def test_callback_chaos_is_refused_where_the_provider_sends_no_callbacks() -> None:
    async with client(make_app()) as http:
        header = await http.post(
            AIMLAPI_PATH, headers={**AUTH, "X-Mock-Callback": "drop"}, json=aimlapi_body()
        )
        rule = await http.post("/__mock/faults", json={"operation": "createGeneration", "callback": "drop"})
        bad = await http.post(
            EVOLINK_CREATE, headers={**AUTH, "X-Mock-Callback": "twice"}, json=evolink_body()
        )
    assert header.status_code == 400 and "aimlapi sends no callbacks" in header.headers["x-mock-problem"]
    assert rule.status_code == 400 and "aimlapi sends no callbacks" in rule.text
    assert (
        bad.status_code == 400
        and "drop, duplicate, delay=SECONDS or early=SECONDS" in bad.headers["x-mock-problem"]
    )


# -- on a real socket --------------------------------------------------------------------------


def test_on_a_real_connection_each_fault_is_what_a_client_sees_from_a_real_server() -> None:
    app = make_app()
    with live_server(app) as base, httpx.Client(base_url=base, timeout=5) as http:

        def create(fault: str) -> httpx.Response:
            return http.post(EVOLINK_CREATE, headers={**AUTH, "X-Mock-Fault": fault}, json=evolink_body())

        with pytest.raises(httpx.ReadError):  # a RST: "connection reset by peer"
            create("reset")
        with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
            create("lost")
        with pytest.raises(httpx.RemoteProtocolError, match="complete message body"):
            create("truncate")
        with pytest.raises(httpx.ReadTimeout):
            http.post(
                EVOLINK_CREATE, headers={**AUTH, "X-Mock-Fault": "delay=2"}, json=evolink_body(), timeout=0.3
            )
        assert create("503").status_code == 503
        assert http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body()).status_code == 200
        entries = http.get("/__mock/requests").json()["requests"]
    # a delayed answer is journaled when it is ready, before its delay
    assert [e["fault"] for e in entries] == ["reset", "lost", "truncate", "delay=2", "503", None]
    assert [e["status"] for e in entries] == [None, None, 200, 200, 503, 200]
