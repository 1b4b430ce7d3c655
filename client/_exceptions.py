"""The client's exceptions: one class per documented HTTP status, chosen from a table.

    VideoGenError
    ├── APIStatusError            an error answer (status, code, type, param, message, ...)
    │   ├── BadRequestError           400
    │   ├── AuthenticationError       401
    │   ├── InsufficientQuotaError    402
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── RequestTooLargeError      413
    │   ├── RateLimitError            429 (retry_after)
    │   └── ServerError               5xx
    │       ├── InternalServerError       500
    │       ├── BadGatewayError           502
    │       ├── ServiceUnavailableError   503
    │       └── GatewayTimeoutError       504
    ├── APIConnectionError        no answer (APITimeoutError: no answer in time)
    ├── TaskFailedError           the task ended failed (code = the business code)
    ├── WaitTimeoutError          the deadline passed before the task finished
    └── InvalidImageError         an image the provider would refuse, caught before sending

Client layer: no I/O here.
"""

from __future__ import annotations

from typing import Any

from client.types import VideoTask


class VideoGenError(Exception):
    """Base of every error the client raises."""


class APIStatusError(VideoGenError):
    status_code: int = 0

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: int | str | None = None,
        type: str | None = None,
        param: str | None = None,
        fallback_suggestion: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(f"{status_code}: {message}")
        self.message, self.status_code, self.code, self.type = message, status_code, code, type
        self.param, self.fallback_suggestion, self.request_id = param, fallback_suggestion, request_id
        self.retry_after, self.body = retry_after, body


class BadRequestError(APIStatusError):
    status_code = 400


class AuthenticationError(APIStatusError):
    status_code = 401


class InsufficientQuotaError(APIStatusError):
    status_code = 402


class PermissionDeniedError(APIStatusError):
    status_code = 403


class NotFoundError(APIStatusError):
    status_code = 404


class RequestTooLargeError(APIStatusError):
    status_code = 413


class RateLimitError(APIStatusError):
    status_code = 429


class ServerError(APIStatusError):
    status_code = 500


class InternalServerError(ServerError):
    status_code = 500


class BadGatewayError(ServerError):
    status_code = 502


class ServiceUnavailableError(ServerError):
    status_code = 503


class GatewayTimeoutError(ServerError):
    status_code = 504


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientQuotaError,
    403: PermissionDeniedError,
    404: NotFoundError,
    413: RequestTooLargeError,
    429: RateLimitError,
    500: InternalServerError,
    502: BadGatewayError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
}


def error_class(status: int) -> type[APIStatusError]:
    if status in STATUS_ERRORS:
        return STATUS_ERRORS[status]
    return ServerError if status >= 500 else APIStatusError


class APIConnectionError(VideoGenError):
    """The request got no answer (connection refused, reset, DNS, ...)."""


class APITimeoutError(APIConnectionError):
    """The request got no answer in time."""


class TaskFailedError(VideoGenError):
    def __init__(self, task: VideoTask) -> None:
        super().__init__(f"task {task.id} failed: {task.error_code}: {task.error_message}")
        self.task, self.code, self.message = task, task.error_code, task.error_message


class WaitTimeoutError(VideoGenError):
    def __init__(self, task: VideoTask | None, timeout: float) -> None:
        status = task.provider_status if task else "unknown"
        super().__init__(f"task not finished after {timeout:g} s (last status: {status})")
        self.task, self.timeout = task, timeout


class InvalidImageError(VideoGenError, ValueError):
    """An image the provider documents it would refuse (format, size, kind)."""
