"""AI/ML API: every documented error status, by every trigger, in the gateway's envelope."""

from __future__ import annotations

import re
import uuid
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

pytestmark = pytest.mark.anyio

# The AI/ML API's documented messages; 404 has none documented.
AIMLAPI_MESSAGES = {
    400: "Body validation error",
    401: "This request requires a valid API key. You can create a new API key on the Billing page: "
    "https://aimlapi.com/app/keys",
    403: "You've run out of credits. Please top up your balance or update your payment method to continue: "
    "https://aimlapi.com/app/billing/",
    404: "Generation not found",
    429: "Too Many Requests",
    500: "Internal server error",
    502: "Bad Gateway",
    503: "Service unavailable",
    504: "Generation timeout",
}
AIMLAPI_STATUSES = [400, 401, 403, 404, 429, 500, 502, 503, 504]
TRIGGERS = ["header", "prompt", "rule"]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def assert_aimlapi_error(
    response: httpx.Response, status: int, path: str, message: str | None = None
) -> None:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"message", "path", "requestId", "statusCode", "timestamp"}
    assert body["message"] == (message or AIMLAPI_MESSAGES[status])
    assert body["statusCode"] == status and body["path"] == path
    assert uuid.UUID(body["requestId"]).version == 4 and ISO.match(body["timestamp"])
    if status == 429:
        assert int(response.headers["retry-after"]) >= 1


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
