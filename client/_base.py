"""What the sync and async clients share: configuration (arguments, then the environment)
and the plans for each verb. The drivers in `_sync.py` / `_async.py` only run the plans.

Client layer: no I/O here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from client._exceptions import VideoGenError
from client._images import Image
from client._plans import HttpRequest, Plan, PollSettings, ProviderApi, fetch, send, wait
from client._retry import RetryPolicy
from client.types import VideoTask

USER_AGENT = "videogen-client/0.1"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)


class Provider(ProviderApi, Protocol):
    default_base_url: str
    env_key: str
    env_base: str

    def base_url(self, base_url: str) -> str: ...

    def create_request(
        self,
        *,
        prompt: str,
        image: Image,
        last_image: Image | None = None,
        duration: int = 5,
        aspect_ratio: str | None = None,
        callback_url: str | None = None,
    ) -> HttpRequest: ...


class BaseClient:
    def __init__(
        self,
        api: Provider,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        poll: PollSettings | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._api = api
        key = api_key or os.environ.get(api.env_key)
        if not key:
            raise VideoGenError(f"no API key: pass api_key= or set {api.env_key}")
        self.api_key = key
        self.base_url = api.base_url(base_url or os.environ.get(api.env_base) or api.default_base_url)
        self.retry = retry or RetryPolicy()
        self.poll = poll or PollSettings()
        self._now = monotonic or time.monotonic

    @property
    def provider(self) -> str:
        return self._api.name

    def _url_and_headers(self, request: HttpRequest) -> tuple[str, dict[str, str]]:
        """API paths go to the base URL with the key; absolute URLs (results) get no key."""
        if request.url.startswith(("http://", "https://")):
            return request.url, {"User-Agent": USER_AGENT}
        return self.base_url + request.url, {
            "Authorization": f"Bearer {self.api_key}",
            "User-Agent": USER_AGENT,
        }

    def _create_plan(self, **arguments: Any) -> Plan[VideoTask]:
        response = yield from send(self._api.create_request(**arguments), self.retry, now=self._now)
        return self._api.parse_task(response.json())

    def _get_plan(self, task_id: str) -> Plan[VideoTask]:
        return (yield from fetch(self._api, task_id, self.retry, now=self._now))

    def _wait_plan(self, task_id: str, **options: Any) -> Plan[VideoTask]:
        return (yield from wait(self._api, task_id, self.retry, self.poll, now=self._now, **options))

    def _generate_plan(self, wait_options: dict[str, Any], **arguments: Any) -> Plan[VideoTask]:
        task = yield from self._create_plan(**arguments)
        return (yield from self._wait_plan(task.id, **wait_options))

    def _download_plan(self, source: VideoTask | str, path: str | os.PathLike[str]) -> Plan[Path]:
        url = source.video_url if isinstance(source, VideoTask) else source
        if not url:
            raise VideoGenError("the task has no video yet")
        target = Path(path)
        yield from send(HttpRequest("GET", url, stream_to=target), self.retry, now=self._now)
        return target


def task_id_of(task: VideoTask | str) -> str:
    return task.id if isinstance(task, VideoTask) else task


def partial_path(target: Path) -> Path:
    """Downloads land here first and are renamed when complete."""
    return target.with_name(target.name + ".part")
