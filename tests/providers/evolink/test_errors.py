"""EvoLink: every documented error status, by every trigger, with the exact documented body of each
operation, in both documented styles."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.helpers import (
    AUTH,
    EVOLINK_CREATE,
    client,
    evolink_body,
    make_app,
)
from tests.providers.documented import SEED_CREATE as DOCUMENTED_CREATE
from tests.providers.documented import SEED_QUERY as DOCUMENTED_QUERY

pytestmark = pytest.mark.anyio

# An injected 429's suggestion says what its Retry-After says (1 s), where the seed shows 60.
INJECTED_429 = {**DOCUMENTED_CREATE[429], "fallback_suggestion": "retry after 1 second"}
SEED_CREATE = {**DOCUMENTED_CREATE, 429: INJECTED_429}
SEED_QUERY = {**DOCUMENTED_QUERY, 429: INJECTED_429}
EVOLINK_STATUSES = [400, 401, 402, 403, 404, 429, 500, 502, 503]
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
@pytest.mark.parametrize("status", EVOLINK_STATUSES)
async def test_evolink_create_answers_every_documented_status_with_the_seed_body(
    trigger: str, status: int
) -> None:
    async with client(make_app()) as http:
        response = await _trigger(
            http, trigger, "createVideoGeneration", status, "POST", EVOLINK_CREATE, evolink_body()
        )
    assert response.status_code == status
    assert response.json() == {"error": SEED_CREATE[status]}
    if status == 429:
        assert response.headers["retry-after"] == "1"


@pytest.mark.parametrize("trigger", ["header", "rule"])  # a GET has no prompt
@pytest.mark.parametrize("status", EVOLINK_STATUSES)
async def test_evolink_task_query_answers_every_documented_status_with_its_own_body(
    trigger: str, status: int
) -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        response = await _trigger(
            http, trigger, "getTaskDetail", status, "GET", f"/v1/tasks/{task['id']}", None
        )
    assert response.status_code == status
    assert response.json() == {"error": SEED_QUERY[status]}


async def test_evolink_current_style_uses_string_codes_for_each_operation() -> None:
    async with client(make_app(evolink_errors="current")) as http:
        unauthorized = await http.post(EVOLINK_CREATE, json=evolink_body())
        missing = await http.get("/v1/tasks/task-unified-1767225600-aaaaaaaa", headers=AUTH)
        bad_id = await http.get("/v1/tasks/nope", headers=AUTH)
    assert unauthorized.json() == {
        "error": {
            "code": "unauthorized",
            "message": "Invalid or expired token",
            "type": "authentication_error",
        }
    }
    assert missing.json() == {
        "error": {
            "code": "task_not_found",
            "message": "The requested task could not be found",
            "type": "invalid_request_error",
        }
    }
    assert bad_id.json()["error"] == {
        "code": "invalid_task_id",
        "type": "invalid_request_error",
        "message": "Invalid task ID format, must start with 'task-unified-'",
        "param": "task_id",
    }


@pytest.mark.parametrize("style", ["seed", "current"])
async def test_a_refused_testing_aid_on_the_task_query_names_the_trigger_not_the_task_id(style: str) -> None:
    async with client(make_app(evolink_errors=style)) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        refused = await http.get(f"/v1/tasks/{task['id']}", headers={**AUTH, "X-Mock-Fault": "lost"})
    error = refused.json()["error"]
    assert refused.status_code == 400 and error["param"] == "X-Mock-Fault"
    assert error["code"] == (400 if style == "seed" else "invalid_request")
    assert "task" not in error["message"].lower()
    assert "lost applies to creates only" in refused.headers["x-mock-problem"]


async def test_a_429s_suggestion_says_what_its_retry_after_says() -> None:
    async with client(make_app(rate_limit=1)) as http:
        armed = await http.post(
            "/__mock/faults", json={"operation": "getTaskDetail", "status": 429, "retry_after": 30}
        )
        ruled = await http.get("/v1/tasks/task-unified-1767225600-abcdefgh", headers=AUTH)
        for _ in range(2):  # the one request a minute allows, then the limit
            limited = await http.get("/v1/tasks/task-unified-1767225600-abcdefgh", headers=AUTH)
    assert armed.status_code == 201
    assert ruled.headers["retry-after"] == "30"
    assert ruled.json()["error"]["fallback_suggestion"] == "retry after 30 seconds"
    wait = limited.headers["retry-after"]
    assert (
        limited.status_code == 429
        and limited.json()["error"]["fallback_suggestion"] == f"retry after {wait} seconds"
    )


@pytest.mark.parametrize("style", ["seed", "current"])
async def test_a_long_task_id_that_starts_right_is_not_found_rather_than_misnamed(style: str) -> None:
    # the vendor files state no length limit for a task id: a long one is simply not found
    long_id = "task-unified-" + "a" * 120
    async with client(make_app(evolink_errors=style)) as http:
        response = await http.get(f"/v1/tasks/{long_id}", headers=AUTH)
    assert len(long_id) == 133 and response.status_code == 404


def test_the_refused_trigger_bodies_are_the_creates_documented_400s() -> None:
    from mockserver.providers.evolink.wire import TRIGGER_REFUSED
    from mockserver.spec import load_spec

    create = load_spec("evolink").operations["createVideoGeneration"]
    for style, body in TRIGGER_REFUSED.items():
        assert {"error": body} == create.example_body(400, style)
