"""Verdicts on a client (`GET /__mock/verdicts`): a deliberately naive client fails each check,
each alone, with the journal entries as evidence; a careful one passes them all. (The
reference client passes through a burst of faults: tests/client/test_fault_policy.py.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from mockserver.engine.ids import fingerprint
from tests.helpers import AUTH, EVOLINK_CREATE, KEY, OTHER_AUTH, advance, client, evolink_body, make_app

pytestmark = pytest.mark.anyio
Naive = Callable[[httpx.AsyncClient], Awaitable[None]]
CHECKS = [
    "poll_too_fast",
    "retry_after_ignored",
    "polled_after_end",
    "create_repeated_after_lost",
    "key_sent_to_file_host",
    "task_never_followed",
]


async def create(http: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(**body))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def poll(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    return dict((await http.get(f"/v1/tasks/{task_id}", headers=AUTH)).json())


async def follow(http: httpx.AsyncClient, task_id: str, every: float = 10) -> dict[str, Any]:
    """Poll as a careful client does, until the task ends."""
    while (task := await poll(http, task_id))["status"] not in ("completed", "failed"):
        await advance(http, every)
    return task


async def polls_in_a_tight_loop(http: httpx.AsyncClient) -> None:
    task = await create(http)
    for _ in range(3):
        await poll(http, task["id"])
    await advance(http, 80)
    await poll(http, task["id"])


async def ignores_retry_after(http: httpx.AsyncClient) -> None:
    await http.post(
        "/__mock/faults", json={"operation": "createVideoGeneration", "status": 429, "retry_after": 30}
    )
    assert (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).status_code == 429
    await advance(http, 5)
    await follow(http, (await create(http))["id"])


async def polls_after_the_end(http: httpx.AsyncClient) -> None:
    task = await follow(http, (await create(http))["id"])
    await advance(http, 10)
    await poll(http, task["id"])


async def creates_again_after_a_lost_answer(http: httpx.AsyncClient) -> None:
    headers = {**AUTH, "X-Mock-Fault": "lost"}
    with pytest.raises(httpx.RemoteProtocolError):
        await http.post(EVOLINK_CREATE, headers=headers, json=evolink_body())
    await follow(http, (await create(http))["id"])  # the same body, so the same video, again


async def sends_the_key_for_the_file(http: httpx.AsyncClient) -> None:
    task = await follow(http, (await create(http))["id"])
    url = httpx.URL(task["results"][0])
    assert (await http.get(url.path, headers=AUTH)).status_code == 200


async def never_follows_a_task(http: httpx.AsyncClient) -> None:
    await create(http)


NAIVE: dict[str, Naive] = {
    "poll_too_fast": polls_in_a_tight_loop,
    "retry_after_ignored": ignores_retry_after,
    "polled_after_end": polls_after_the_end,
    "create_repeated_after_lost": creates_again_after_a_lost_answer,
    "key_sent_to_file_host": sends_the_key_for_the_file,
    "task_never_followed": never_follows_a_task,
}


async def verdicts(http: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await http.get("/__mock/verdicts", params={"key": KEY, **params})
    assert response.status_code == 200, response.text
    return dict(response.json())


@pytest.mark.parametrize("check", CHECKS)
async def test_a_naive_client_fails_each_check_alone_with_its_evidence(check: str) -> None:
    async with client(make_app()) as http:
        await NAIVE[check](http)
        report = await verdicts(http)
    assert not report["passed"] and report["key"] == fingerprint(KEY)
    failed = {v["check"]: v for v in report["verdicts"] if not v["passed"]}
    assert list(failed) == [check]
    [finding] = failed[check]["findings"]
    assert finding["summary"] and finding["evidence"]
    assert all(entry["key"] == fingerprint(KEY) for entry in finding["evidence"])


async def test_the_evidence_is_the_entries_that_prove_it() -> None:
    async with client(make_app()) as http:
        await polls_in_a_tight_loop(http)
        report = await verdicts(http)
        journal = (await http.get("/__mock/requests", params={"operation": "getTaskDetail"})).json()[
            "requests"
        ]
    fast = next(v for v in report["verdicts"] if v["check"] == "poll_too_fast")
    [finding] = fast["findings"]
    assert [e["seq"] for e in finding["evidence"]] == [e["seq"] for e in journal[:3]]
    assert "polled 2 time(s) sooner than 1 s" in finding["summary"]


async def test_a_careful_client_passes_every_check() -> None:
    async with client(make_app()) as http:
        await http.post(
            "/__mock/faults", json={"operation": "getTaskDetail", "status": 503, "retry_after": 4}
        )
        task = await create(http)
        assert (await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)).status_code == 503
        await advance(http, 4)
        done = await follow(http, task["id"])
        assert (await http.get(httpx.URL(done["results"][0]).path)).status_code == 200  # no key
        await create(http, callback_url="https://hooks.example.com/done")  # followed by callback
        report = await verdicts(http)
    assert report["passed"], report
    assert [v["check"] for v in report["verdicts"]] == CHECKS and report["requests"] >= 10


async def test_the_threshold_is_a_parameter_and_other_keys_are_not_judged() -> None:
    async with client(make_app()) as http:
        task = await create(http)
        await poll(http, task["id"])
        await advance(http, 2)
        await follow(http, task["id"], every=2)
        await http.post(EVOLINK_CREATE, headers=OTHER_AUTH, json=evolink_body())  # never followed
        relaxed, strict = await verdicts(http), await verdicts(http, min_poll_interval=5)
        everyone = (await http.get("/__mock/verdicts")).json()
    assert relaxed["passed"] and not strict["passed"]
    assert strict["min_poll_interval"] == 5
    assert not everyone["passed"] and everyone["key"] is None


async def test_since_judges_only_what_came_after() -> None:
    async with client(make_app()) as http:
        await polls_in_a_tight_loop(http)
        last = (await http.get("/__mock/requests")).json()["requests"][-1]["seq"]
        await follow(http, (await create(http))["id"])
        assert (await verdicts(http, since=last))["passed"]
        assert not (await verdicts(http))["passed"]


def test_each_verdict_is_one_record_that_the_spec_and_the_naive_clients_follow() -> None:
    from mockserver.control.verdicts import VERDICTS
    from mockserver.spec import read_document

    names = [verdict.name for verdict in VERDICTS]
    assert names == CHECKS and set(NAIVE) == set(names)
    operation = read_document("control")["paths"]["/__mock/verdicts"]["get"]
    schema = read_document("control")["components"]["schemas"]
    documented = str(operation["description"])
    assert all(f"`{name}`" in documented for name in names)
    enums = [
        prop["enum"]
        for item in schema.values()
        for prop in _walk(item)
        if isinstance(prop, dict) and "poll_too_fast" in prop.get("enum", [])
    ]
    assert enums == [names]


def _walk(node: Any) -> list[Any]:
    """Every dict and list inside a JSON document."""
    found = [node]
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found += _walk(child)
    return found
