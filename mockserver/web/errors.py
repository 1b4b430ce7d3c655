"""Errors become responses here, and only here: `ApiError` (an answer the request earned),
domain errors through one table, and anything unexpected as the API's own 500.

Web layer. Each API renders its bodies through its `Dialect` (the provider's error envelope).
"""

from __future__ import annotations

import logging
import math
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.responses import Response

from mockserver.engine import (
    Clock,
    EngineError,
    FaultFired,
    InsufficientCredits,
    RateLimited,
    TaskAlreadyFinished,
    TaskForbidden,
    TaskNotFound,
)
from mockserver.engine.errors import StoreUnavailable
from mockserver.spec import FieldError, Operation
from mockserver.web.responses import json_response

logger = logging.getLogger("mockserver.errors")
Scope = MutableMapping[str, Any]
PROBLEM_HEADER = "X-Mock-Problem"  # what the fake itself found wrong (the provider's body cannot say)


@dataclass(eq=False)
class ApiError(Exception):
    """An error answer; the API's dialect turns it into the provider's exact body."""

    status: int
    param: str | None = None
    errors: tuple[FieldError, ...] = ()
    retry_after: int | None = None
    message: str | None = None  # the whole message, where a dialect words it itself
    problem: str | None = None  # why a mock trigger was refused, or the fake failed: X-Mock-Problem
    body: Any = None  # the whole body, as a recording has it (replay): sent as it is


class Dialect(Protocol):
    """How one API words its errors."""

    foreign_task_status: int  # a task of another key: evolink says 403, aimlapi 404

    def render(self, scope: Scope, op: Operation | None, error: ApiError) -> Response: ...

    def invalid(self, op: Operation, errors: list[FieldError], where: str) -> ApiError:
        """The answer to a request that breaks the spec (`where`: body, query, path, header)."""


def credits_status(op: Operation | None) -> int:
    """Out of credits: 402 where the operation documents it (evolink), else 403 (aimlapi)."""
    return 402 if op is not None and 402 in op.responses else 403


def unavailable_status(op: Operation | None) -> int:
    """The store does not answer: 503 where the operation documents it; else its documented
    500 (evolink's current error style lists no 503); else 503 (the control plane's own)."""
    if op is not None and 503 not in op.responses and 500 in op.responses:
        return 500
    return 503


def as_api_error(
    error: EngineError, op: Operation | None, dialect: Dialect, retry_after: int, clock: Clock
) -> ApiError:
    """The one table from domain errors to answers (`retry_after`: of injected 429s)."""
    if isinstance(error, TaskNotFound):
        return ApiError(404)
    if isinstance(error, TaskForbidden):
        return ApiError(dialect.foreign_task_status)
    if isinstance(error, InsufficientCredits):
        return ApiError(credits_status(op))
    if isinstance(error, RateLimited):
        real = clock.real_seconds(error.wait)  # Retry-After is real seconds; a manual clock's are fake
        return ApiError(429, retry_after=max(1, math.ceil(error.wait if real is None else real)))
    if isinstance(error, FaultFired):
        rule, fault = error.rule, error.rule.fault
        status = fault.status if fault is not None and fault.status is not None else 500
        wait = rule.retry_after if rule.retry_after is not None else retry_after if status == 429 else None
        return ApiError(status, retry_after=wait)
    if isinstance(error, TaskAlreadyFinished):
        return ApiError(409)
    if isinstance(error, StoreUnavailable):
        return ApiError(unavailable_status(op), problem=f"the fake's store does not answer: {error.where}")
    return ApiError(500)


def error_response(
    scope: Scope, op: Operation | None, dialect: Dialect, error: BaseException, retry_after: int, clock: Clock
) -> Response:
    """Any exception raised while answering, as the API's own error body (and `X-Mock-Problem`
    where the fake has more to say than the body can)."""
    if isinstance(error, EngineError):
        error = as_api_error(error, op, dialect, retry_after, clock)
    elif not isinstance(error, ApiError):
        logger.error("unexpected error on %s %s", scope.get("method"), scope.get("path"), exc_info=error)
        error = ApiError(500)
    if error.body is not None:  # a recorded answer, sent again as it was
        return json_response(error.body, error.status)
    response = dialect.render(scope, op, error)
    if error.problem is not None:
        response.headers[PROBLEM_HEADER] = error.problem.encode("ascii", "backslashreplace").decode()
    return response
