"""Errors both providers answer in their own envelope: keys, credits, ownership, the rate limit,
fault rules and trigger values."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    EVOLINK_CREATE,
    OTHER_AUTH,
    OTHER_KEY,
    advance,
    aimlapi_body,
    client,
    evolink_body,
    make_app,
)
from tests.providers.documented import SEED_CREATE, SEED_QUERY, assert_aimlapi_error

pytestmark = pytest.mark.anyio


async def _trigger(
    http: httpx.AsyncClient,
    trigger: str,
    op: str,
    status: int,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> httpx.Response:
    headers = dict(AUTH)
    if trigger == "header":
        headers["X-Mock-Fault"] = str(status)
    elif trigger == "prompt":
        assert body is not None
        body = {**body, "prompt": f"{body['prompt']} [mock:fault={status}]"}
    else:
        rule = await http.post("/__mock/faults", json={"operation": op, "status": status, "count": 1})
        assert rule.status_code == 201, rule.text
    response = await http.request(method, path, headers=headers, json=body)
    if trigger == "rule":  # the rule is spent: the next request is answered normally
        again = await http.request(method, path, headers=AUTH, json=body)
        assert again.status_code < 400, again.text
    return response


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic mock-key"},
        {"Authorization": "Bearer "},
    ],
)
async def test_missing_or_unknown_keys_get_401_from_both_providers(headers: dict[str, str]) -> None:
    async with client(make_app()) as http:
        evolink = await http.post(EVOLINK_CREATE, headers=headers, json=evolink_body())
        aiml = await http.get(AIMLAPI_PATH, params={"generation_id": "x"}, headers=headers)
    assert evolink.json() == {"error": SEED_CREATE[401]}
    assert_aimlapi_error(aiml, 401, AIMLAPI_PATH)


async def test_accept_any_key_takes_any_non_empty_key_but_not_none() -> None:
    async with client(make_app(accept_any_key=True)) as http:
        ok = await http.post(
            EVOLINK_CREATE, headers={"Authorization": "Bearer anything"}, json=evolink_body()
        )
        refused = await http.post(EVOLINK_CREATE, json=evolink_body())
    assert ok.status_code == 200 and refused.status_code == 401


async def test_out_of_credits_is_402_on_evolink_and_403_on_aimlapi() -> None:
    # one balance per key and provider, each in the provider's unit: a 5 s video each
    credits = {"evolink": 10, "aimlapi": 1_500_000}
    async with client(make_app(credits=credits)) as http:
        assert (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).status_code == 200
        refused = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        assert (await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())).status_code == 200
        aiml = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
        other = await http.post(AIMLAPI_PATH, headers=OTHER_AUTH, json=aimlapi_body())
    assert refused.json() == {"error": SEED_CREATE[402]}
    assert_aimlapi_error(aiml, 403, AIMLAPI_PATH)
    assert other.status_code == 200  # balances are per key


@pytest.mark.parametrize(("duration", "credits_used"), [(5, 1_120_000), (10, 2_240_000)])
async def test_aimlapi_credits_used_is_the_price_setting_in_its_unit(
    duration: int, credits_used: int
) -> None:
    async with client(make_app()) as http:
        default = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(duration=duration))
    async with client(make_app(aimlapi_usd_per_second=0.39)) as http:
        priced = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(duration=duration))
    assert default.json()["meta"] == {"usage": {"credits_used": credits_used}}
    # 2,000,000 credits per USD, as the gateway's pages show (3,900,000 credits for $1.95)
    assert priced.json()["meta"]["usage"]["credits_used"] == round(0.39 * duration * 2_000_000)


async def test_a_single_number_is_each_providers_balance_in_its_own_unit() -> None:
    async with client(make_app(credits=7)) as http:
        evolink = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        aiml = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
    assert evolink.status_code == 200  # 7 EvoLink credits: one 5 s video
    assert aiml.status_code == 403  # 7 AI/ML API credits: far from one video


async def test_a_task_of_another_key_is_403_on_evolink_and_404_on_aimlapi() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        generation = (await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())).json()
        foreign = await http.get(f"/v1/tasks/{task['id']}", headers=OTHER_AUTH)
        aiml = await http.get(AIMLAPI_PATH, params={"generation_id": generation["id"]}, headers=OTHER_AUTH)
        unknown = await http.get("/v1/tasks/task-unified-1767225600-zzzzzzzz", headers=AUTH)
        aiml_unknown = await http.get(AIMLAPI_PATH, params={"generation_id": "nope"}, headers=AUTH)
    assert foreign.json() == {"error": SEED_QUERY[403]}
    assert_aimlapi_error(aiml, 404, AIMLAPI_PATH)
    assert unknown.json() == {"error": SEED_QUERY[404]}
    assert_aimlapi_error(aiml_unknown, 404, AIMLAPI_PATH)


async def test_rate_limit_answers_429_with_retry_after_until_the_window_passes() -> None:
    async with client(make_app(rate_limit=3)) as http:
        answers = [(await http.get("/v1/tasks/task-unified-1-x", headers=AUTH)).status_code for _ in range(4)]
        limited = await http.get("/v1/tasks/task-unified-1-x", headers=AUTH)
        other_key = await http.get(
            "/v1/tasks/task-unified-1-x", headers={"Authorization": f"Bearer {OTHER_KEY}"}
        )
        aiml = await http.get(AIMLAPI_PATH, params={"generation_id": "x"}, headers=AUTH)
        await advance(http, 60)
        after = await http.get("/v1/tasks/task-unified-1-x", headers=AUTH)
    assert answers == [404, 404, 404, 429]
    assert limited.json() == {"error": SEED_QUERY[429]} and limited.headers["retry-after"] == "60"
    assert other_key.status_code == 404
    assert_aimlapi_error(aiml, 429, AIMLAPI_PATH)
    assert after.status_code == 404


async def test_fault_rules_can_be_limited_to_one_key_listed_and_cleared() -> None:
    async with client(make_app()) as http:
        rule = await http.post(
            "/__mock/faults",
            json={
                "operation": "createVideoGeneration",
                "status": 503,
                "count": 5,
                "key": OTHER_KEY,
                "retry_after": 7,
            },
        )
        assert rule.status_code == 201 and rule.json()["key"].startswith("sha256:")
        mine = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        theirs = await http.post(EVOLINK_CREATE, headers=OTHER_AUTH, json=evolink_body())
        listed = (await http.get("/__mock/faults")).json()["faults"]
        cleared = (await http.delete("/__mock/faults")).json()
        after = await http.post(EVOLINK_CREATE, headers=OTHER_AUTH, json=evolink_body())
        undocumented = await http.post("/__mock/faults", json={"operation": "getGeneration", "status": 402})
    assert mine.status_code == 200 and theirs.status_code == 503
    assert listed[0]["remaining"] == 4 and cleared == {"faults": []} and after.status_code == 200
    assert undocumented.status_code == 400 and undocumented.json()["error"]["param"] == "status"


@pytest.mark.parametrize(
    ("header", "value"),
    [("X-Mock-Fault", "418"), ("X-Mock-Fault", "abc"), ("X-Mock-Fail", "not_a_business_code")],
)
async def test_a_bad_trigger_value_is_a_400_naming_the_header(header: str, value: str) -> None:
    async with client(make_app()) as http:
        response = await http.post(EVOLINK_CREATE, headers={**AUTH, header: value}, json=evolink_body())
    assert response.status_code == 400 and response.json()["error"]["param"] == header


async def test_a_fault_answered_request_creates_nothing() -> None:
    async with client(make_app()) as http:
        await http.post(EVOLINK_CREATE, headers={**AUTH, "X-Mock-Fault": "500"}, json=evolink_body())
        await advance(http, 1)
        tasks = (await http.get("/__mock/tasks")).json()["tasks"]
    assert tasks == []
