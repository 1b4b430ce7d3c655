"""Shared test helpers: apps, in-process clients, a live loopback server and request bodies."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx

from contracts.server import serve
from mockserver import Fake, Settings, create_app
from mockserver.transport import AsyncASGITransport, SyncASGITransport

KEY = "mock-key"
OTHER_KEY = "other-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
OTHER_AUTH = {"Authorization": f"Bearer {OTHER_KEY}"}
IMAGE = "https://example.com/first-frame.jpg"
EVOLINK_CREATE = "/v1/videos/generations"
AIMLAPI_PATH = "/v2/video/generations"


def evolink_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "kling-o1-image-to-video",
        "prompt": "A cat walking",
        "image_urls": [IMAGE],
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def aimlapi_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "klingai/video-o1-image-to-video",
        "prompt": "Mona Lisa puts on glasses",
        "image_url": IMAGE,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {"clock": "manual", "seed": 1, "keys": (KEY, OTHER_KEY), "check_responses": True}
    values.update(overrides)
    return Settings(**values)


# A factory of the store apps get when a test names none (tests/providers runs each store).
default_store: Callable[[], Any] | None = None


def make_app(
    *, resolver: Any = None, callback_transport: Any = None, store: Any = None, **overrides: Any
) -> Any:
    if store is None and default_store is not None:
        store = default_store()
    return create_app(
        make_settings(**overrides), resolver=resolver, callback_transport=callback_transport, store=store
    )


def state_of(app: Any) -> Fake:
    fake: Fake = app.state.mock
    return fake


class VirtualTime:
    """For sync clients in-process: their sleeps move the fake's manual clock (through its
    control plane, on the app's own loop) and their deadline reads it, so waits are instant."""

    def __init__(self, app: Any, transport: SyncASGITransport) -> None:
        self.fake = state_of(app)
        self.http = httpx.Client(transport=transport, base_url="http://fake.test")

    def sleep(self, seconds: float) -> None:
        self.http.post("/__mock/clock/advance", json={"seconds": seconds}).raise_for_status()

    def now(self) -> float:
        return self.fake.engine.now()


@contextlib.asynccontextmanager
async def client(app: Any, base_url: str = "http://fake.test") -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client; on the way out the fake stops as its lifespan would stop it (its
    store disconnected: a later request opens it again)."""
    async with httpx.AsyncClient(transport=AsyncASGITransport(app=app), base_url=base_url) as http:
        try:
            yield http
        finally:
            fake = getattr(getattr(app, "state", None), "mock", None)
            if isinstance(fake, Fake):
                await fake.runtime.stop()


async def advance(http: httpx.AsyncClient, seconds: float) -> None:
    response = await http.post("/__mock/clock/advance", json={"seconds": seconds})
    assert response.status_code == 200, response.text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


live_server = serve  # the fake (or any ASGI app) on a free 127.0.0.1 port
