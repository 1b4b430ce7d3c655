"""Sans-I/O plans shared by the sync and async clients: a plan is a generator that yields a
request or a sleep and receives the response (or the transport exception); the drivers in
`_sync.py` and `_async.py` only carry them out.

Client layer: no I/O here.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import httpx

from client._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    TaskFailedError,
    WaitTimeoutError,
    error_class,
)
from client._retry import RetryPolicy, delay_for, retry_after, should_retry_error, should_retry_status
from client.types import Status, VideoTask

T = TypeVar("T")


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str  # relative to the base URL, or absolute (downloads)
    params: dict[str, str] | None = None
    json: Any = None
    creates: bool = False  # retried only where it provably created nothing
    stream_to: Any = field(default=None, compare=False)  # downloads: where the driver streams to


@dataclass(frozen=True)
class Sleep:
    seconds: float


Step = HttpRequest | Sleep
Outcome = httpx.Response | Exception | None
Plan = Generator[Step, Outcome, T]


@dataclass(frozen=True)
class PollSettings:
    """Defaults from the providers' guidance: aimlapi polls every 10-15 s and gives up after
    1000 s; evolink suggests 10-15 s for video and reports `estimated_time`."""

    interval: float = 10.0
    min_interval: float = 1.0  # never poll faster than this, even when the ETA is near
    max_interval: float = 30.0
    queued_backoff: float = 1.5  # each poll while still queued waits this much longer
    timeout: float = 1000.0


class ProviderApi(Protocol):
    name: str

    def get_request(self, task_id: str) -> HttpRequest: ...

    def parse_task(self, body: Any) -> VideoTask: ...


def error_from_response(response: httpx.Response) -> APIStatusError:
    """Either provider's error envelope (evolink int or str codes, aimlapi NestJS) as an exception."""
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    fields: dict[str, Any] = {}
    message = response.reason_phrase or "error"
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        message = str(error["message"]) if error.get("message") is not None else message
        fields = {k: error.get(k) for k in ("code", "type", "param", "fallback_suggestion")}
    elif isinstance(body, dict) and "statusCode" in body:
        message = str(body["message"]) if body.get("message") is not None else message
        fields = {"code": body.get("statusCode"), "request_id": body.get("requestId")}
    elif isinstance(body, str) and body:
        message = body[:500]
    fields.setdefault("request_id", None)
    fields["request_id"] = fields["request_id"] or response.headers.get("x-request-id")
    wait = retry_after(response.headers)
    return error_class(status)(message, status_code=status, retry_after=wait, body=body, **fields)


def connection_error(error: Exception) -> APIConnectionError:
    kind = APITimeoutError if isinstance(error, httpx.TimeoutException) else APIConnectionError
    failure = kind(f"{type(error).__name__}: {error}")
    failure.__cause__ = error
    return failure


def send(
    request: HttpRequest,
    policy: RetryPolicy,
    *,
    now: Callable[[], float],
    deadline: float | None = None,
    rand: Callable[[], float] = random.random,
) -> Plan[httpx.Response]:
    """One request with the retry policy: returns a 2xx response or raises."""
    retry = 0
    while True:
        outcome = yield request
        failure: Exception
        if isinstance(outcome, Exception):
            failure, server_wait = connection_error(outcome), None
            retryable = should_retry_error(outcome, creates=request.creates)
        else:
            assert outcome is not None
            if outcome.status_code < 300:
                return outcome
            failure = error_from_response(outcome)
            server_wait = failure.retry_after
            retryable = should_retry_status(outcome.status_code, creates=request.creates)
        if not retryable or retry >= policy.max_retries:
            raise failure
        retry += 1
        wait = delay_for(policy, retry, server_wait, rand)
        if wait is None or (deadline is not None and now() + wait > deadline):
            raise failure
        yield Sleep(wait)


def fetch(
    api: ProviderApi,
    task_id: str,
    policy: RetryPolicy,
    *,
    now: Callable[[], float],
    deadline: float | None = None,
) -> Plan[VideoTask]:
    response = yield from send(api.get_request(task_id), policy, now=now, deadline=deadline)
    return api.parse_task(response.json())


def poll_delay(task: VideoTask, queued_polls: int, settings: PollSettings) -> float:
    """The next wait: the interval, longer while queued, shorter when the ETA is sooner."""
    delay = settings.interval
    if task.status is Status.QUEUED:
        # The exponent is capped: a task queued for thousands of polls must not overflow a float.
        backoff = settings.queued_backoff ** min(queued_polls, 64)
        delay = min(settings.max_interval, settings.interval * backoff)
    if task.eta_seconds is not None:
        delay = min(delay, max(settings.min_interval, float(task.eta_seconds)))
    return max(settings.min_interval, delay)


def wait(
    api: ProviderApi,
    task_id: str,
    policy: RetryPolicy,
    settings: PollSettings,
    *,
    now: Callable[[], float],
    timeout: float | None = None,
    on_progress: Callable[[VideoTask], None] | None = None,
    raise_on_failure: bool = True,
) -> Plan[VideoTask]:
    """Poll until the task finishes or the deadline passes (then WaitTimeoutError)."""
    budget = settings.timeout if timeout is None else timeout
    deadline = now() + budget
    queued_polls = 0
    while True:
        task = yield from fetch(api, task_id, policy, now=now, deadline=deadline)
        if on_progress is not None:
            on_progress(task)
        if task.finished:
            if task.status is Status.FAILED and raise_on_failure:
                raise TaskFailedError(task)
            return task
        remaining = deadline - now()
        if remaining <= 0:
            raise WaitTimeoutError(task, budget)
        yield Sleep(min(poll_delay(task, queued_polls, settings), remaining))
        queued_polls = queued_polls + 1 if task.status is Status.QUEUED else 0
