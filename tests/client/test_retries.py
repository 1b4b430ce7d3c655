"""The retry policy: pure functions by table, and scripted sequences (respx) through the clients."""

from __future__ import annotations

import email.utils
from typing import Any

import httpx
import pytest
import respx

from client import (
    AimlapiClient,
    APIConnectionError,
    AsyncEvolinkClient,
    EvolinkClient,
    InternalServerError,
    PollSettings,
    RateLimitError,
    RetryPolicy,
    ServiceUnavailableError,
    WaitTimeoutError,
)
from client._retry import delay_for, retry_after, should_retry_error, should_retry_status

BASE = "https://api.evolink.ai"
TASK_ID = "task-unified-1767225600-abcdefgh"
IMAGE = "https://example.com/a.jpg"


def task_body(status: str = "processing", **extra: Any) -> dict[str, Any]:
    body = {
        "created": 1767225600,
        "id": TASK_ID,
        "model": "kling-o1-image-to-video",
        "object": "video.generation.task",
        "progress": 10,
        "status": status,
        "task_info": {"can_cancel": False, "estimated_time": 60},
        "type": "video",
    }
    body.update(extra)
    return body


def created_body() -> dict[str, Any]:
    """A spec-valid create answer (VideoGenerationResponse: pending, progress 0, usage)."""
    usage = {"billing_rule": "per_call", "credits_reserved": 7, "user_group": "default"}
    return task_body("pending", progress=0, usage=usage, task_info={"can_cancel": True, "estimated_time": 79})


class Clock:
    """A fake monotonic clock that sleeps advance: retries and deadlines without waiting."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []  # type: float, list[float]

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def monotonic(self) -> float:
        return self.now


def client(clock: Clock, **options: Any) -> EvolinkClient:
    return EvolinkClient("k", base_url=BASE, sleep=clock.sleep, monotonic=clock.monotonic, **options)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After-Ms": "250", "Retry-After": "9"}, 0.25),
        ({"Retry-After": email.utils.formatdate(1000.0 + 30, usegmt=True)}, 30.0),
        ({"Retry-After": email.utils.formatdate(1000.0 - 30, usegmt=True)}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "-5"}, 0.0),
        ({}, None),
    ],
)
def test_retry_after_reads_seconds_milliseconds_and_http_dates(
    headers: dict[str, str], expected: float | None
) -> None:
    assert retry_after(headers, now=1000.0) == expected


@pytest.mark.parametrize(
    ("retry", "low", "high"), [(1, 0.375, 0.625), (2, 0.75, 1.25), (3, 1.5, 2.5), (9, 6, 10)]
)
def test_backoff_doubles_with_jitter_and_is_capped(retry: int, low: float, high: float) -> None:
    policy = RetryPolicy()
    values = [policy.backoff(retry, lambda r=r: r) for r in (0.0, 0.5, 0.999999)]
    assert low <= min(values) and max(values) <= high
    assert policy.backoff(retry, lambda: 0.5) == min(8.0, 0.5 * 2 ** (retry - 1))


@pytest.mark.parametrize(
    ("status", "creates", "retried"),
    [
        (429, True, True),
        (500, True, False),
        (503, True, False),
        (429, False, True),
        (500, False, True),
        (502, False, True),
        (503, False, True),
        (504, False, True),
        (400, False, False),
        (404, False, False),
    ],
)
def test_which_statuses_are_retried(status: int, creates: bool, retried: bool) -> None:
    assert should_retry_status(status, creates=creates) is retried


@pytest.mark.parametrize(
    ("error", "creates", "retried"),
    [
        (httpx.ConnectError("x"), True, True),
        (httpx.ConnectTimeout("x"), True, True),
        (httpx.ReadTimeout("x"), True, False),
        (httpx.RemoteProtocolError("x"), True, False),
        (httpx.ReadTimeout("x"), False, True),
        (httpx.RemoteProtocolError("x"), False, True),
    ],
)
def test_which_transport_errors_are_retried(error: Exception, creates: bool, retried: bool) -> None:
    assert should_retry_error(error, creates=creates) is retried


def test_a_retry_after_beyond_the_cap_is_not_waited_for() -> None:
    assert delay_for(RetryPolicy(max_retry_after=60), 1, 61.0) is None
    assert delay_for(RetryPolicy(max_retry_after=60), 1, 60.0) == 60.0


@respx.mock(assert_all_called=True)
def test_429_with_retry_after_then_200_waits_what_the_server_asks(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{BASE}/v1/videos/generations").mock(
        side_effect=[
            httpx.Response(
                429,
                headers={"Retry-After": "3"},
                json={"error": {"code": 429, "message": "Rate limit exceeded", "type": "rate_limit_error"}},
            ),
            httpx.Response(200, json=created_body()),
        ]
    )
    clock = Clock()
    with client(clock) as videos:
        task = videos.create("a cat", IMAGE)
    assert task.id == TASK_ID and route.call_count == 2 and clock.sleeps == [3.0]


@respx.mock
def test_503_503_200_on_a_read_backs_off_twice(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/v1/tasks/{TASK_ID}").mock(
        side_effect=[
            httpx.Response(
                503, json={"error": {"code": 503, "message": "Service temporarily unavailable", "type": "x"}}
            ),
            httpx.Response(
                503, json={"error": {"code": 503, "message": "Service temporarily unavailable", "type": "x"}}
            ),
            httpx.Response(200, json=task_body()),
        ]
    )
    clock = Clock()
    with client(clock) as videos:
        task = videos.get(TASK_ID)
    assert task.progress == 10 and route.call_count == 3
    assert len(clock.sleeps) == 2 and 0.375 <= clock.sleeps[0] <= 0.625 and 0.75 <= clock.sleeps[1] <= 1.25


@respx.mock
def test_a_500_on_create_is_not_retried(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.post(f"{BASE}/v1/videos/generations").mock(
        return_value=httpx.Response(
            500,
            json={
                "error": {"code": 500, "message": "Internal server error", "type": "internal_server_error"}
            },
        )
    )
    clock = Clock()
    with client(clock) as videos, pytest.raises(InternalServerError):
        videos.create("a cat", IMAGE)
    assert route.call_count == 1 and clock.sleeps == []


@respx.mock
def test_a_create_is_retried_only_when_the_connection_never_happened(respx_mock: respx.MockRouter) -> None:
    refused = respx_mock.post(f"{BASE}/v1/videos/generations").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=created_body())]
    )
    clock = Clock()
    with client(clock) as videos:
        assert videos.create("a cat", IMAGE).id == TASK_ID
    assert refused.call_count == 2
    refused.side_effect = [
        httpx.ReadTimeout("sent, no answer"),
        httpx.Response(200, json=created_body()),
    ]
    with client(clock) as videos, pytest.raises(APIConnectionError):
        videos.create("a cat", IMAGE)


@respx.mock
def test_retries_give_up_after_max_retries_with_the_last_error(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/v1/tasks/{TASK_ID}").mock(
        return_value=httpx.Response(
            503, json={"error": {"code": 503, "message": "Service temporarily unavailable", "type": "x"}}
        )
    )
    clock = Clock()
    with client(clock, retry=RetryPolicy(max_retries=2)) as videos, pytest.raises(ServiceUnavailableError):
        videos.get(TASK_ID)
    assert route.call_count == 3


@respx.mock
def test_a_retry_after_longer_than_the_cap_raises_at_once(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/v1/tasks/{TASK_ID}").mock(
        return_value=httpx.Response(
            429,
            headers={"Retry-After": "3600"},
            json={"error": {"code": 429, "message": "slow", "type": "x"}},
        )
    )
    clock = Clock()
    with client(clock) as videos, pytest.raises(RateLimitError) as caught:
        videos.get(TASK_ID)
    assert caught.value.retry_after == 3600 and clock.sleeps == []


@respx.mock
def test_the_deadline_ends_a_wait_that_never_finishes(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(f"{BASE}/v1/tasks/{TASK_ID}").mock(
        return_value=httpx.Response(200, json=task_body())
    )
    clock = Clock()
    with client(clock, poll=PollSettings(interval=10)) as videos, pytest.raises(WaitTimeoutError) as caught:
        videos.wait(TASK_ID, timeout=95)
    assert caught.value.task is not None and caught.value.task.provider_status == "processing"
    assert sum(clock.sleeps) == pytest.approx(95) and route.call_count == 11  # 0, 10, ..., 90, 95


@pytest.mark.anyio
@respx.mock
async def test_async_client_follows_the_same_policy(respx_mock: respx.MockRouter) -> None:
    respx_mock.get(f"{BASE}/v1/tasks/{TASK_ID}").mock(
        side_effect=[
            httpx.Response(
                429, headers={"Retry-After": "2"}, json={"error": {"code": 429, "message": "x", "type": "x"}}
            ),
            httpx.Response(
                200, json=task_body("completed", progress=100, results=["https://cdn.example.com/v.mp4"])
            ),
        ]
    )
    clock = Clock()
    async with AsyncEvolinkClient(
        "k", base_url=BASE, sleep=clock.asleep, monotonic=clock.monotonic
    ) as videos:
        task = await videos.wait(TASK_ID)
    assert task.video_url == "https://cdn.example.com/v.mp4" and clock.sleeps == [2.0]


@respx.mock
def test_aimlapi_ids_are_url_encoded_and_the_key_never_goes_to_the_cdn(
    respx_mock: respx.MockRouter, tmp_path: Any
) -> None:
    generation = "ee188bbb-47f1-41b1-b0d6-24ad799e3205:klingai/video-o1-image-to-video"
    get = respx_mock.get("https://api.aimlapi.com/v2/video/generations").mock(
        return_value=httpx.Response(
            200,
            json={
                "id": generation,
                "status": "completed",
                "video": {"url": "https://cdn.example.com/v.mp4"},
                "error": None,
                "meta": None,
            },
        )
    )
    cdn = respx_mock.get("https://cdn.example.com/v.mp4").mock(
        return_value=httpx.Response(200, content=b"mp4")
    )
    with AimlapiClient("secret") as videos:
        task = videos.get(generation)
        videos.download(task, tmp_path / "v.mp4")
    raw = get.calls[0].request.url.raw_path
    encoded = b"ee188bbb-47f1-41b1-b0d6-24ad799e3205%3Aklingai%2Fvideo-o1-image-to-video"
    assert raw == b"/v2/video/generations?generation_id=" + encoded
    assert get.calls[0].request.headers["authorization"] == "Bearer secret"
    assert "authorization" not in cdn.calls[0].request.headers
    assert (tmp_path / "v.mp4").read_bytes() == b"mp4"


@respx.mock
def test_evolink_task_ids_are_path_encoded(respx_mock: respx.MockRouter) -> None:
    route = respx_mock.get(url__regex=r".*/v1/tasks/.*").mock(
        return_value=httpx.Response(200, json=task_body())
    )
    with EvolinkClient("k", base_url="https://ai.odkkk.com/apiv1") as videos:
        videos.get("task-unified-1/../x y")
    assert route.calls[0].request.url.raw_path == b"/apiv1/v1/tasks/task-unified-1%2F..%2Fx%20y"
