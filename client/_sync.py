"""The synchronous clients: a thin driver that runs the shared plans with httpx.Client.

Client layer.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, Unpack, overload

import httpx

from client._base import (
    DEFAULT_TIMEOUT,
    BaseClient,
    OnProgress,
    partial_path,
    task_id_of,
    video_request,
)
from client._plans import HttpRequest, Outcome, Plan, Sleep
from client._providers import Provider
from client.types import Image, VideoOptions, VideoRequest, VideoTask

T = TypeVar("T")


class SyncClient(BaseClient):
    def __init__(
        self,
        api: Provider | str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        **options: Any,
    ) -> None:
        super().__init__(api, api_key=api_key, base_url=base_url, **options)
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=timeout, transport=transport)
        self._sleep = sleep

    @overload
    def create(self, request: VideoRequest, /) -> VideoTask: ...
    @overload
    def create(self, prompt: str, image: Image, **options: Unpack[VideoOptions]) -> VideoTask: ...
    def create(self, *arguments: Any, **options: Any) -> VideoTask:
        """Start a task: `create(VideoRequest(...))`, or `create(prompt, image, duration=10, ...)`."""
        return self._run(self._create_plan(video_request(arguments, options)))

    def get(self, task: VideoTask | str) -> VideoTask:
        return self._run(self._get_plan(task_id_of(task)))

    def wait(
        self,
        task: VideoTask | str,
        *,
        timeout: float | None = None,
        on_progress: OnProgress | None = None,
        raise_on_failure: bool = True,
    ) -> VideoTask:
        """Poll until the task finishes; TaskFailedError if it failed, WaitTimeoutError at the deadline."""
        return self._run(
            self._wait_plan(
                task_id_of(task), timeout=timeout, on_progress=on_progress, raise_on_failure=raise_on_failure
            )
        )

    @overload
    def generate(
        self, request: VideoRequest, /, *, timeout: float | None = None, on_progress: OnProgress | None = None
    ) -> VideoTask: ...
    @overload
    def generate(
        self,
        prompt: str,
        image: Image,
        *,
        timeout: float | None = None,
        on_progress: OnProgress | None = None,
        **options: Unpack[VideoOptions],
    ) -> VideoTask: ...
    def generate(
        self,
        *arguments: Any,
        timeout: float | None = None,
        on_progress: OnProgress | None = None,
        **options: Any,
    ) -> VideoTask:
        """Create (either call form of `create`), then wait until finished."""
        return self._run(
            self._generate_plan(video_request(arguments, options), timeout=timeout, on_progress=on_progress)
        )

    def download(self, task: VideoTask | str, path: str | os.PathLike[str]) -> Path:
        """Stream the task's video (or a video URL) to `path`."""
        return self._run(self._download_plan(task, path))

    def _run(self, plan: Plan[T]) -> T:
        outcome: Outcome = None
        while True:
            try:
                step = plan.send(outcome)
            except StopIteration as stop:
                result: T = stop.value
                return result
            if isinstance(step, Sleep):
                self._sleep(step.seconds)
                outcome = None
                continue
            try:
                outcome = self._perform(step)
            except httpx.TransportError as error:
                outcome = error

    def _perform(self, step: HttpRequest) -> httpx.Response:
        url, headers = self._url_and_headers(step)
        if step.stream_to is None:
            return self._http.request(step.method, url, params=step.params, json=step.json, headers=headers)
        with self._http.stream(step.method, url, headers=headers) as response:
            if response.is_success:
                part = partial_path(step.stream_to)
                with part.open("wb") as file:
                    for chunk in response.iter_bytes():
                        file.write(chunk)
                part.replace(step.stream_to)
            else:
                response.read()
            return response

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AimlapiClient(SyncClient):
    """The AI/ML API (`AIML_API_KEY`, `AIML_API_BASE`)."""

    def __init__(self, api_key: str | None = None, **options: Any) -> None:
        super().__init__("aimlapi", api_key=api_key, **options)


class EvolinkClient(SyncClient):
    """EvoLink or a white-label mirror (`EVOLINK_API_KEY`, `EVOLINK_BASE_URL`)."""

    def __init__(self, api_key: str | None = None, **options: Any) -> None:
        super().__init__("evolink", api_key=api_key, **options)
