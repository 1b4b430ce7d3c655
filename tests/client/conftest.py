"""Consumer contract for the whole client test suite: every request the reference client
sends, and every answer it is given, must be one the specs allow (contracts.consumer).

Tests that send invalid requests on purpose (to see the provider's 400) say so with the
`sends_invalid_requests` marker."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from contracts.consumer import ContractViolation, check_request, check_response, find_operation

CONTROL_PREFIX = "/__mock/"


def _is_api(request: httpx.Request) -> bool:
    try:
        find_operation(request.method, request.url.path)
    except ContractViolation:
        return not request.url.path.startswith(CONTROL_PREFIX) and request.url.host.startswith("api.")
    return not request.url.path.startswith(CONTROL_PREFIX)


@pytest.fixture(autouse=True)
def consumer_contract(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    test = request
    if test.node.get_closest_marker("sends_invalid_requests"):
        yield []
        return
    exchanges: list[str] = []
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def check(outgoing: httpx.Request, response: httpx.Response) -> None:
        op = check_request(outgoing)
        if not response.is_stream_consumed and op.id == "getResultVideo":
            exchanges.append(f"{op.id} {response.status_code}")
            return
        check_response(op, response)
        exchanges.append(f"{op.id} {response.status_code}")

    # httpx passes the request by keyword on some paths, so the parameter keeps its name.
    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = sync_send(self, request, **kwargs)
        if _is_api(request):
            check(request, response)
        return response

    async def asend(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        response = await async_send(self, request, **kwargs)
        if _is_api(request):
            check(request, response)
        return response

    monkeypatch.setattr(httpx.Client, "send", send)
    monkeypatch.setattr(httpx.AsyncClient, "send", asend)
    yield exchanges
