"""httpx, sync and async: the transports every client uses (`httpx.HTTPTransport`, through a
proxy too, and `httpx.AsyncHTTPTransport`) answer a routed host in-process, with the errors
httpx raises when a server drops a connection so, and `ReadTimeout` past the read timeout.

Contracts layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import httpx

from contracts.routing.exchange import Answer, Request
from contracts.routing.hosts import Hosts
from contracts.routing.inprocess import InProcess


def request_of(request: httpx.Request, body: bytes) -> Request:
    url = request.url
    return Request(request.method, url.scheme, url.host, url.port, url.raw_path, request.headers.raw, body)


def read_timeout(request: httpx.Request) -> float | None:
    timeout: Any = request.extensions.get("timeout", {}).get("read")
    return timeout if isinstance(timeout, (int, float)) else None


def response_of(answer: Answer, request: httpx.Request, *, asynchronous: bool = False) -> httpx.Response:
    """The answer, or what httpx raises when a server drops the connection so (a reset reads as
    the socket's error in sync httpx, as anyio's wordless BrokenResourceError in async)."""
    cut = answer.cut
    if cut is not None and cut.reset:
        reset = "" if asynchronous else "[Errno 104] Connection reset by peer"
        raise httpx.ReadError(reset, request=request)
    if cut is not None and cut.sends_half:
        expected = dict(answer.headers).get(b"content-length", b"?").decode()
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {len(answer.body)} bytes, expected {expected})",
            request=request,
        )
    if cut is not None:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    return httpx.Response(answer.status, headers=answer.headers, content=answer.body, request=request)


class InProcessTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """The fake in-process as an httpx transport, sync and async, for any URL."""

    def __init__(self, fake: InProcess) -> None:
        self.fake = fake

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            answer = self.fake.answer(request_of(request, request.read()), read_timeout(request))
        except TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None
        return response_of(answer, request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            answer = await self.fake.answer_async(
                request_of(request, await request.aread()), read_timeout(request)
            )
        except TimeoutError:
            raise httpx.ReadTimeout("timed out", request=request) from None
        return response_of(answer, request, asynchronous=True)


@contextlib.contextmanager
def route(hosts: Hosts, fake: InProcess) -> Iterator[None]:
    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request
    in_process = InProcessTransport(fake)

    def handle_request(transport: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        if request.url.host in hosts:
            return in_process.handle_request(request)
        return sync_send(transport, request)

    async def handle_async_request(
        transport: httpx.AsyncHTTPTransport, request: httpx.Request
    ) -> httpx.Response:
        if request.url.host in hosts:
            return await in_process.handle_async_request(request)
        return await async_send(transport, request)

    with (
        mock.patch.object(httpx.HTTPTransport, "handle_request", handle_request),
        mock.patch.object(httpx.AsyncHTTPTransport, "handle_async_request", handle_async_request),
    ):
        yield
