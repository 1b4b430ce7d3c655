"""The documented error bodies, copied by hand from the seed document and the vendors' pages:
the tests' oracle, kept apart from the specs (a spec that drifted from them fails the tests).

Test helpers: no test here.
"""

from __future__ import annotations

import re
import uuid

import httpx

# The seed document's bodies, copied by hand (createVideoGeneration).
SEED_CREATE = {
    400: {"code": 400, "message": "Invalid request parameter", "type": "invalid_request_error"},
    401: {"code": 401, "message": "Invalid or expired token", "type": "authentication_error"},
    402: {
        "code": 402,
        "message": "Insufficient quota",
        "type": "insufficient_quota_error",
        "fallback_suggestion": "https://ai.odkkk.com/apiv1/dashboard/billing",
    },
    403: {
        "code": 403,
        "message": "Access denied for this model",
        "type": "permission_error",
        "param": "model",
    },
    404: {
        "code": 404,
        "message": "Specified model not found",
        "type": "not_found_error",
        "param": "model",
        "fallback_suggestion": "kling-o1-image-to-video",
    },
    429: {
        "code": 429,
        "message": "Rate limit exceeded",
        "type": "rate_limit_error",
        "fallback_suggestion": "retry after 60 seconds",
    },
    500: {
        "code": 500,
        "message": "Internal server error",
        "type": "internal_server_error",
        "fallback_suggestion": "try again later",
    },
    502: {
        "code": 502,
        "message": "Upstream AI service unavailable",
        "type": "upstream_error",
        "fallback_suggestion": "try different model",
    },
    503: {
        "code": 503,
        "message": "Service temporarily unavailable",
        "type": "service_unavailable_error",
        "fallback_suggestion": "retry after 30 seconds",
    },
}
# EvoLink's task-query page of the same era (getTaskDetail).
SEED_QUERY = {
    **SEED_CREATE,
    400: {
        "code": 400,
        "message": "Invalid task ID format",
        "type": "invalid_request_error",
        "param": "task_id",
    },
    403: {"code": 403, "message": "Access denied", "type": "permission_error"},
    404: {"code": 404, "message": "Task not found or expired", "type": "not_found_error", "param": "task_id"},
    502: {
        "code": 502,
        "message": "Upstream service error",
        "type": "upstream_error",
        "fallback_suggestion": "try again later",
    },
}
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
