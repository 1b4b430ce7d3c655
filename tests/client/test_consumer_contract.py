"""The consumer contract itself: it sees every exchange, refuses requests and scripted answers
outside the spec; and the client parses every body shape the spec allows (property tests)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import jsonschema_rs
import pytest
import respx
from hypothesis import given

from client import EvolinkClient, RetryPolicy, Status
from client._exceptions import STATUS_ERRORS
from client._plans import error_from_response
from client._providers.aimlapi import AimlapiApi
from client._providers.evolink import EvolinkApi
from contracts.consumer import ContractRouter, ContractViolation, check_request
from contracts.strategies import bodies
from mockserver.spec import read_document
from mockserver.transport import SyncASGITransport
from tests.helpers import KEY, VirtualTime, make_app

IMAGE = "https://example.com/a.jpg"


def test_the_hook_checked_every_exchange_of_a_client_run(consumer_contract: list[str]) -> None:
    app = make_app()
    transport = SyncASGITransport(app)
    time = VirtualTime(app, transport)
    with EvolinkClient(
        KEY, base_url="http://fake.test", transport=transport, sleep=time.sleep, monotonic=time.now
    ) as videos:
        videos.generate("A cat", IMAGE)
    assert consumer_contract[0] == "createVideoGeneration 200"
    assert consumer_contract[-1] == "getTaskDetail 200" and len(consumer_contract) > 3


@pytest.mark.sends_invalid_requests
def test_the_router_hands_requests_to_the_in_process_fake_and_checks_both_ways() -> None:
    app = make_app()
    router = ContractRouter(SyncASGITransport(app).handle_request)
    with respx.mock() as mock:
        mock.route(host="api.evolink.ai").mock(side_effect=router)
        with EvolinkClient(KEY) as videos:
            task = videos.create("A cat", IMAGE)
            videos.get(task)
        with pytest.raises(ContractViolation, match="no `Authorization: Bearer`"):
            httpx.get(f"https://api.evolink.ai/v1/tasks/{task.id}")
        with pytest.raises(ContractViolation, match="undeclared query parameters"):
            httpx.get(
                f"https://api.evolink.ai/v1/tasks/{task.id}?lang=en", headers={"Authorization": "Bearer k"}
            )
        with pytest.raises(ContractViolation, match="not an operation"):
            httpx.delete(f"https://api.evolink.ai/v1/tasks/{task.id}", headers={"Authorization": "Bearer k"})
    assert router.seen == [("createVideoGeneration", 200), ("getTaskDetail", 200)]


@pytest.mark.sends_invalid_requests
def test_the_router_refuses_a_scripted_answer_the_spec_does_not_allow() -> None:
    scripted = ContractRouter(
        lambda request: httpx.Response(200, json={"id": "task-unified-1-x", "status": "done"})
    )
    with respx.mock() as mock:
        mock.route(host="api.evolink.ai").mock(side_effect=scripted)
        with EvolinkClient("k", retry=RetryPolicy(max_retries=0)) as videos, pytest.raises(ContractViolation):
            videos.get("task-unified-1767225600-abcdefgh")


@pytest.mark.parametrize(
    ("method", "url", "body", "problem"),
    [
        ("POST", "https://api.evolink.ai/v1/videos/generations", {"model": "x"}, "body"),
        (
            "POST",
            "https://api.aimlapi.com/v2/video/generations",
            {"model": "klingai/video-o1-image-to-video", "prompt": "x", "image_url": "x", "duration": 7},
            "body",
        ),
        ("GET", "https://api.evolink.ai/v1/tasks/not-a-task", None, "parameters"),
    ],
)
def test_check_request_names_what_breaks_the_spec(method: str, url: str, body: Any, problem: str) -> None:
    request = httpx.Request(method, url, json=body, headers={"Authorization": "Bearer k"})
    with pytest.raises(ContractViolation, match=problem):
        check_request(request)


@given(bodies("evolink", "TaskDetailResponse"))
def test_the_client_parses_every_evolink_task_body_the_spec_allows(body: dict[str, Any]) -> None:
    task = EvolinkApi().parse_task(body)
    assert task.id == body["id"] and task.provider_status == body["status"]
    assert (task.status is Status.SUCCEEDED) == (body["status"] == "completed")
    assert (task.video_url is not None) == (body["status"] == "completed")
    if body["status"] == "failed":
        assert task.status is Status.FAILED and task.error_code == body["error"]["code"]


@given(bodies("aimlapi", "Generation"))
def test_the_client_parses_every_aimlapi_generation_body_the_spec_allows(body: dict[str, Any]) -> None:
    task = AimlapiApi().parse_task(body)
    assert task.id == body["id"]
    assert (task.video_url is not None) == (body["status"] == "completed")
    assert task.finished == (body["status"] in ("completed", "error"))


@given(bodies("evolink", "VideoGenerationResponse"))
def test_the_client_parses_every_evolink_create_answer(body: dict[str, Any]) -> None:
    task = EvolinkApi().parse_task(body)
    assert task.status is Status.QUEUED and task.progress == 0


@given(data=bodies("evolink", "ErrorResponse") | bodies("aimlapi", "ErrorResponse"))
def test_the_client_turns_every_error_body_into_its_exception(data: dict[str, Any]) -> None:
    for status, kind in STATUS_ERRORS.items():
        error = error_from_response(
            httpx.Response(
                status, content=json.dumps(data).encode(), headers={"content-type": "application/json"}
            )
        )
        assert type(error) is kind and error.status_code == status
        if "error" in data:
            assert error.message == data["error"]["message"] and error.code == data["error"]["code"]
        else:
            assert error.message == data["message"] and error.request_id == data["requestId"]


def test_the_drawn_bodies_really_are_spec_valid() -> None:
    components = read_document("evolink")["components"]
    validator = jsonschema_rs.validator_for(
        {"$ref": "#/components/schemas/TaskDetailResponse", "components": components}
    )

    @given(bodies("evolink", "TaskDetailResponse"))
    def check(body: dict[str, Any]) -> None:
        assert validator.is_valid(body)

    check()
