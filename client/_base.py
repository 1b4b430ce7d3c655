"""What the sync and async clients share: configuration (arguments, then the environment),
the verbs' arguments as one VideoRequest, and the plans for each verb. The drivers in
`_sync.py` / `_async.py` only run the plans.

Client layer: no I/O here.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from client._exceptions import VideoGenError
from client._plans import HttpRequest, Plan, PollSettings, fetch, send, wait
from client._providers import PROVIDERS, Provider
from client._retry import RetryPolicy
from client.types import VideoRequest, VideoTask

USER_AGENT = "videogen-client/0.1"
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
OnProgress = Callable[[VideoTask], None]


class BaseClient:
    def __init__(
        self,
        api: Provider | str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        retry: RetryPolicy | None = None,
        poll: PollSettings | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        api = provider_named(api) if isinstance(api, str) else api
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

    def _create_plan(self, request: VideoRequest) -> Plan[VideoTask]:
        response = yield from send(self._api.create_request(request), self.retry, now=self._now)
        return self._api.parse_task(response.json())

    def _get_plan(self, task_id: str) -> Plan[VideoTask]:
        return (yield from fetch(self._api, task_id, self.retry, now=self._now))

    def _wait_plan(self, task_id: str, **options: Any) -> Plan[VideoTask]:
        return (yield from wait(self._api, task_id, self.retry, self.poll, now=self._now, **options))

    def _generate_plan(self, request: VideoRequest, **wait_options: Any) -> Plan[VideoTask]:
        task = yield from self._create_plan(request)
        return (yield from self._wait_plan(task.id, **wait_options))

    def _download_plan(self, source: VideoTask | str, path: str | os.PathLike[str]) -> Plan[Path]:
        url = source.video_url if isinstance(source, VideoTask) else source
        if not url:
            raise VideoGenError("the task has no video yet")
        target = Path(path)
        yield from send(HttpRequest("GET", url, stream_to=target), self.retry, now=self._now)
        return target


def provider_named(name: str) -> Provider:
    """A registered provider by its name ("evolink", "aimlapi", ...)."""
    if name not in PROVIDERS:
        raise VideoGenError(f"unknown provider {name!r}: one of {', '.join(PROVIDERS)}")
    return PROVIDERS[name]


def video_request(arguments: tuple[Any, ...], options: dict[str, Any]) -> VideoRequest:
    """What `create` and `generate` were given, as one VideoRequest: either a VideoRequest
    alone, or the arguments of one. Building it with VideoRequest's own signature is what
    refuses an unknown option, a missing image or a stray positional (TypeError)."""
    if arguments and isinstance(arguments[0], VideoRequest):
        if len(arguments) > 1 or options:
            raise TypeError("a VideoRequest comes alone; change one with dataclasses.replace(request, ...)")
        return arguments[0]
    return VideoRequest(*arguments, **options)


def task_id_of(task: VideoTask | str) -> str:
    return task.id if isinstance(task, VideoTask) else task


def partial_path(target: Path) -> Path:
    """Downloads land here first and are renamed when complete."""
    return target.with_name(target.name + ".part")
