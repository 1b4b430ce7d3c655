"""Reference Python client for the AI/ML API and EvoLink Kling-O1 video APIs (sync and async).

from client import EvolinkClient
with EvolinkClient(api_key="...", base_url="http://127.0.0.1:8000") as videos:
    task = videos.generate("A cat walking", "https://example.com/cat.jpg", on_progress=print)
    # or: videos.generate(VideoRequest("A cat walking", "https://example.com/cat.jpg", duration=10))
    videos.download(task, "cat.mp4")
"""

from client._async import AsyncAimlapiClient, AsyncClient, AsyncEvolinkClient
from client._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    GatewayTimeoutError,
    InsufficientQuotaError,
    InternalServerError,
    InvalidImageError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestTooLargeError,
    ServerError,
    ServiceUnavailableError,
    TaskFailedError,
    VideoGenError,
    WaitTimeoutError,
)
from client._plans import PollSettings
from client._retry import RetryPolicy
from client._sync import AimlapiClient, EvolinkClient, SyncClient
from client.callbacks import CallbackReceiver, parse_callback
from client.types import Status, VideoOptions, VideoRequest, VideoTask

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AimlapiClient",
    "AsyncAimlapiClient",
    "AsyncClient",
    "AsyncEvolinkClient",
    "AuthenticationError",
    "BadGatewayError",
    "BadRequestError",
    "CallbackReceiver",
    "EvolinkClient",
    "GatewayTimeoutError",
    "InsufficientQuotaError",
    "InternalServerError",
    "InvalidImageError",
    "NotFoundError",
    "PermissionDeniedError",
    "PollSettings",
    "RateLimitError",
    "RequestTooLargeError",
    "RetryPolicy",
    "ServerError",
    "ServiceUnavailableError",
    "Status",
    "SyncClient",
    "TaskFailedError",
    "VideoGenError",
    "VideoOptions",
    "VideoRequest",
    "VideoTask",
    "WaitTimeoutError",
    "parse_callback",
]
