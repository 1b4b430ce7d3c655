"""EvoLink's current error style (`--evolink-errors current`) follows the 2026-03 vendor files
exactly: their bodies (no `param` or `fallback_suggestion` where they show none), only their
statuses, and an unknown model is a bad request."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import AUTH, EVOLINK_CREATE, client, evolink_body, make_app
from tests.vendor import needs_vendor, vendor

pytestmark = pytest.mark.anyio

CURRENT_CREATE = "evolink-kling-o1-image-to-video.2026-03-10.json"
CURRENT_QUERY = "evolink-get-task-detail.2026-03-15.json"
INVALID_REQUEST = {
    "error": {
        "code": "invalid_request",
        "message": "Invalid request parameters",
        "type": "invalid_request_error",
    }
}


def vendor_errors(name: str, path: str, method: str) -> dict[int, Any]:
    responses = vendor(name)["paths"][path][method]["responses"]
    return {
        int(status): response["content"]["application/json"]["example"]
        for status, response in responses.items()
        if int(status) >= 400
    }


@needs_vendor
async def test_every_current_create_error_is_the_vendor_files_body() -> None:
    expected = vendor_errors(CURRENT_CREATE, "/v1/videos/generations", "post")
    async with client(make_app(evolink_errors="current")) as http:
        for status, body in expected.items():
            headers = {**AUTH, "X-Mock-Fault": str(status)}
            response = await http.post(EVOLINK_CREATE, headers=headers, json=evolink_body())
            assert (response.status_code, response.json()) == (status, body)


@needs_vendor
async def test_every_current_task_query_error_is_the_vendor_files_body() -> None:
    expected = vendor_errors(CURRENT_QUERY, "/v1/tasks/{task_id}", "get")
    async with client(make_app(evolink_errors="current")) as http:
        for status, body in expected.items():
            headers = {**AUTH, "X-Mock-Fault": str(status)}
            response = await http.get("/v1/tasks/task-unified-1767225600-abcdefgh", headers=headers)
            assert (response.status_code, response.json()) == (status, body)


@needs_vendor
@pytest.mark.parametrize(
    ("status", "operation"), [(404, "create"), (413, "create"), (502, "create"), (503, "query")]
)
async def test_statuses_the_current_vendor_files_do_not_list_cannot_be_injected(
    status: int, operation: str
) -> None:
    listed = vendor_errors(CURRENT_CREATE, "/v1/videos/generations", "post")
    listed_query = vendor_errors(CURRENT_QUERY, "/v1/tasks/{task_id}", "get")
    assert status not in (listed if operation == "create" else listed_query)
    async with client(make_app(evolink_errors="current")) as http:
        headers = {**AUTH, "X-Mock-Fault": str(status)}
        if operation == "create":
            response = await http.post(EVOLINK_CREATE, headers=headers, json=evolink_body())
        else:
            response = await http.get("/v1/tasks/task-unified-1767225600-abcdefgh", headers=headers)
        rule = await http.post(
            "/__mock/faults",
            json={
                "operation": "createVideoGeneration" if operation == "create" else "getTaskDetail",
                "status": status,
            },
        )
    # the header itself is the bad request: the general one, naming the header (not the task id)
    error = response.json()["error"]
    assert (
        response.status_code == 400
        and error["code"] == "invalid_request"
        and error["param"] == "X-Mock-Fault"
    )
    assert rule.status_code == 400


async def test_current_style_sends_no_param_for_a_refused_callback_url() -> None:
    body = evolink_body(callback_url="https://127.0.0.1/hook")
    async with client(make_app(evolink_errors="current")) as http:
        current = await http.post(EVOLINK_CREATE, headers=AUTH, json=body)
    async with client(make_app()) as http:
        seed = await http.post(EVOLINK_CREATE, headers=AUTH, json=body)
    assert current.status_code == 400 and current.json() == INVALID_REQUEST
    assert seed.json()["error"]["param"] == "callback_url"  # the seed style names the field


async def test_current_style_answers_an_unknown_model_400_and_the_seed_style_404() -> None:
    body = evolink_body(model="kling-o9")
    async with client(make_app(evolink_errors="current")) as http:
        current = await http.post(EVOLINK_CREATE, headers=AUTH, json=body)
    async with client(make_app()) as http:
        seed = await http.post(EVOLINK_CREATE, headers=AUTH, json=body)
    assert (current.status_code, current.json()) == (400, INVALID_REQUEST)
    assert seed.status_code == 404 and seed.json()["error"]["message"] == "Specified model not found"


async def test_current_style_answers_an_over_large_body_400() -> None:
    async with client(make_app(evolink_errors="current", max_body_bytes=1000)) as http:
        response = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(prompt="x" * 2000))
    assert (response.status_code, response.json()) == (400, INVALID_REQUEST)


async def test_current_style_keeps_the_documented_param_of_an_invalid_task_id() -> None:
    async with client(make_app(evolink_errors="current")) as http:
        response = await http.get("/v1/tasks/12345", headers=AUTH)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid_task_id",
            "message": "Invalid task ID format, must start with 'task-unified-'",
            "type": "invalid_request_error",
            "param": "task_id",
        }
    }
