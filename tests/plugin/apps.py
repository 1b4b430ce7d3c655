"""A user's app calling EvoLink once per HTTP library, written as against the real service: its
base URL is the real one unless the app is configured otherwise (`base`). The plugin's tests run
each through `video_mock` and, to compare, against the fake on a port.

Each app has `create(prompt, image) -> task` and `task(id) -> task` (the provider's JSON), and
`video(url) -> bytes` for the result file; the async ones are coroutines.
"""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import dataclass
from typing import Any

import aiohttp
import httpx
import requests
import urllib3

EVOLINK = "https://api.evolink.ai"
KEY = "sk-my-key"
MODEL = "kling-o1-image-to-video"
HEADERS = {"Authorization": f"Bearer {KEY}"}


def create_body(prompt: str, image: str, callback_url: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "prompt": prompt, "image_urls": [image]}
    if callback_url is not None:
        body["callback_url"] = callback_url
    return body


@dataclass
class RequestsApp:
    base: str = EVOLINK
    timeout: float | None = None

    def create(self, prompt: str, image: str) -> Any:
        answer = requests.post(
            f"{self.base}/v1/videos/generations",
            json=create_body(prompt, image),
            headers=HEADERS,
            timeout=self.timeout,
        )
        answer.raise_for_status()
        return answer.json()

    def task(self, task_id: str) -> Any:
        return requests.get(f"{self.base}/v1/tasks/{task_id}", headers=HEADERS, timeout=self.timeout).json()

    def video(self, url: str) -> bytes:
        return requests.get(url, timeout=self.timeout).content


@dataclass
class Urllib3App:
    base: str = EVOLINK
    timeout: float | None = None

    def create(self, prompt: str, image: str) -> Any:
        answer = urllib3.request(
            "POST",
            f"{self.base}/v1/videos/generations",
            json=create_body(prompt, image),
            headers=HEADERS,
            timeout=self.timeout,
        )
        return answer.json()

    def task(self, task_id: str) -> Any:
        return urllib3.request(
            "GET", f"{self.base}/v1/tasks/{task_id}", headers=HEADERS, timeout=self.timeout
        ).json()

    def video(self, url: str) -> bytes:
        return urllib3.request("GET", url, timeout=self.timeout).data


@dataclass
class UrllibApp:
    base: str = EVOLINK
    timeout: float | None = None

    def _json(self, request: urllib.request.Request) -> Any:
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:
            return json.load(answer)

    def create(self, prompt: str, image: str) -> Any:
        data = json.dumps(create_body(prompt, image)).encode()
        headers = {**HEADERS, "Content-Type": "application/json"}
        return self._json(
            urllib.request.Request(f"{self.base}/v1/videos/generations", data, headers, method="POST")
        )

    def task(self, task_id: str) -> Any:
        return self._json(urllib.request.Request(f"{self.base}/v1/tasks/{task_id}", headers=HEADERS))

    def video(self, url: str) -> bytes:
        with urllib.request.urlopen(url, timeout=self.timeout) as answer:
            return bytes(answer.read())


@dataclass
class HttpxApp:
    base: str = EVOLINK
    timeout: float | None = None

    def create(self, prompt: str, image: str) -> Any:
        with httpx.Client(base_url=self.base, headers=HEADERS, timeout=self.timeout) as http:
            return (
                http.post("/v1/videos/generations", json=create_body(prompt, image)).raise_for_status().json()
            )

    def task(self, task_id: str) -> Any:
        return httpx.get(f"{self.base}/v1/tasks/{task_id}", headers=HEADERS, timeout=self.timeout).json()

    def video(self, url: str) -> bytes:
        return httpx.get(url, timeout=self.timeout).content


@dataclass
class AsyncHttpxApp:
    base: str = EVOLINK
    timeout: float | None = None

    async def create(self, prompt: str, image: str) -> Any:
        async with httpx.AsyncClient(base_url=self.base, headers=HEADERS, timeout=self.timeout) as http:
            answer = await http.post("/v1/videos/generations", json=create_body(prompt, image))
            return answer.raise_for_status().json()

    async def task(self, task_id: str) -> Any:
        async with httpx.AsyncClient(headers=HEADERS, timeout=self.timeout) as http:
            return (await http.get(f"{self.base}/v1/tasks/{task_id}")).json()

    async def video(self, url: str) -> bytes:
        async with httpx.AsyncClient(timeout=self.timeout) as http:
            return (await http.get(url)).content


@dataclass
class AiohttpApp:
    base: str = EVOLINK
    timeout: float | None = None

    def _session(self, **options: Any) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout), **options)

    async def create(self, prompt: str, image: str) -> Any:
        async with (
            self._session(headers=HEADERS) as http,
            http.post(f"{self.base}/v1/videos/generations", json=create_body(prompt, image)) as answer,
        ):
            answer.raise_for_status()
            return await answer.json()

    async def task(self, task_id: str) -> Any:
        async with (
            self._session(headers=HEADERS) as http,
            http.get(f"{self.base}/v1/tasks/{task_id}") as answer,
        ):
            return await answer.json()

    async def video(self, url: str) -> bytes:
        async with self._session() as http, http.get(url) as answer:
            return await answer.read()


SYNC_APPS = {"requests": RequestsApp, "urllib3": Urllib3App, "urllib.request": UrllibApp, "httpx": HttpxApp}
ASYNC_APPS = {"httpx-async": AsyncHttpxApp, "aiohttp": AiohttpApp}
APPS: dict[str, Any] = {**SYNC_APPS, **ASYNC_APPS}


def call(method: Any, *args: Any) -> Any:
    """An app's method, run to its result (a coroutine on its own loop, as `asyncio.run`)."""
    result = method(*args)
    return asyncio.run(result) if asyncio.iscoroutine(result) else result
