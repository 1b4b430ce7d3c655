"""AI/ML API: every documented error status, by every trigger, in the gateway's envelope."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    aimlapi_body,
    client,
    make_app,
)
from tests.providers.documented import assert_aimlapi_error

pytestmark = pytest.mark.anyio

AIMLAPI_STATUSES = [400, 401, 403, 404, 429, 500, 502, 503, 504]
TRIGGERS = ["header", "prompt", "rule"]


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


@pytest.mark.parametrize("trigger", TRIGGERS)
@pytest.mark.parametrize("status", AIMLAPI_STATUSES)
async def test_aimlapi_create_answers_every_documented_status_in_the_gateway_envelope(
    trigger: str, status: int
) -> None:
    async with client(make_app()) as http:
        response = await _trigger(
            http, trigger, "createGeneration", status, "POST", AIMLAPI_PATH, aimlapi_body()
        )
    assert_aimlapi_error(response, status, AIMLAPI_PATH)


@pytest.mark.parametrize("trigger", ["header", "rule"])
@pytest.mark.parametrize("status", AIMLAPI_STATUSES)
async def test_aimlapi_retrieve_answers_every_documented_status(trigger: str, status: int) -> None:
    async with client(make_app()) as http:
        created = (await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())).json()
        path = f"{AIMLAPI_PATH}?generation_id={created['id']}"
        response = await _trigger(http, trigger, "getGeneration", status, "GET", path, None)
    message = "Query validation error" if status == 400 else None
    assert_aimlapi_error(response, status, AIMLAPI_PATH, message)
