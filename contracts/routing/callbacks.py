"""Where the fake's callbacks go from a test: to the test's own ASGI or WSGI app in-process
(named by base URL), to a loopback receiver, and nowhere else. A callback to any other host
is not sent: the name is not looked up, no connection is made, and the attempt is recorded as
a connection error saying why (so the schedule retries it and the verdicts see an unreachable
receiver), as the fake records a receiver it cannot reach.

Contracts layer: plugs into the fake's two seams for callbacks, its `resolver` (names) and its
`callback_transport` (what an attempt is sent through).
"""

from __future__ import annotations

import asyncio
import inspect
import ipaddress
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from contracts.routing.hosts import normal
from mockserver.callbacks.guard import local_name

# What the resolver answers for a host whose app runs in-process: a public address (example.com's,
# IANA's own), so the fake's SSRF rules pass as for a real receiver. Nothing ever connects to it:
# the transport below answers by the `Host` the attempt carries.
IN_PROCESS_ADDRESS = "93.184.216.34"
LOOPBACK = "127.0.0.1"
NOT_SENT = (
    "not sent by video_mock: {host} is neither an app named in "
    "@pytest.mark.video_mock(callbacks={{BASE_URL: app}}) nor a loopback receiver "
    "(real delivery: @pytest.mark.video_mock(real_callbacks=True))"
)
logger = logging.getLogger("contracts.callbacks")


def is_asgi(app: Any) -> bool:
    """An ASGI app's call is a coroutine function (FastAPI, Starlette, Quart); a WSGI app's
    (Flask, Django's WSGIHandler) is a plain function."""
    call = app if inspect.isfunction(app) or inspect.ismethod(app) else getattr(app, "__call__", None)  # noqa: B004
    return inspect.iscoroutinefunction(call)


class Receivers(httpx.AsyncBaseTransport):
    """The callback transport and resolver of one fake: `apps` maps base URLs to apps."""

    def __init__(self, apps: Mapping[str, Any]) -> None:
        self.apps: list[tuple[str, httpx.AsyncBaseTransport | httpx.BaseTransport]] = []
        for base, app in apps.items():
            parts = urlsplit(base)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"callbacks: {base!r} is not a base URL such as https://myapp.example.com")
            inner = (
                httpx.ASGITransport(app, raise_app_exceptions=False)
                if is_asgi(app)
                else httpx.WSGITransport(app)
            )
            self.apps.append((str(httpx.URL(base)).rstrip("/"), inner))
        self.apps.sort(key=lambda pair: -len(pair[0]))  # the longest base URL first
        self.hosts = frozenset(normal(urlsplit(base).hostname) for base, _ in self.apps)
        self._loopback: httpx.AsyncHTTPTransport | None = None

    async def resolve(self, host: str, port: int) -> list[str]:
        """The fake's resolver: no lookup, ever."""
        if normal(host) in self.hosts:
            return [IN_PROCESS_ADDRESS]
        if local_name(host):  # reached only when the test allows it (allow_callback_hosts)
            return [LOOPBACK]
        raise OSError(NOT_SENT.format(host=host))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        named = request.url.copy_with(netloc=request.headers["host"].encode())  # the attempt's own URL
        for base, app in self.apps:
            if str(named).startswith(base + "/") or str(named) == base:
                return await self._app(app, request, named)
        if _is_loopback(request.url.host):
            return await self._real().handle_async_request(request)
        raise httpx.ConnectError(NOT_SENT.format(host=named.host), request=request)

    async def _app(
        self, app: httpx.AsyncBaseTransport | httpx.BaseTransport, request: httpx.Request, url: httpx.URL
    ) -> httpx.Response:
        inner = httpx.Request(request.method, url, headers=request.headers, content=await request.aread())
        try:
            if isinstance(app, httpx.AsyncBaseTransport):
                response = await app.handle_async_request(inner)
                body = await response.aread()
            else:  # a WSGI app blocks: in a thread, so the fake serves its calls back meanwhile
                response = await asyncio.to_thread(app.handle_request, inner)
                body = await asyncio.to_thread(response.read)
        except Exception:  # a server answers 500 when its app raises
            logger.exception("the callback handler for %s raised", url)
            return httpx.Response(500, request=request)
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def _real(self) -> httpx.AsyncHTTPTransport:
        if self._loopback is None:
            self._loopback = httpx.AsyncHTTPTransport()
        return self._loopback

    async def aclose(self) -> None:
        loopback, self._loopback = self._loopback, None
        if loopback is not None:
            await loopback.aclose()


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
