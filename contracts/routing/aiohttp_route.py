"""aiohttp: its connector opens a connection to a routed host (a proxy set or not) on the
fake's end of a socket pair, with asyncio's own transport and aiohttp's own protocol on it, so
aiohttp's parser, pooling, timeouts and errors work as against a server.

Contracts layer. `TCPConnector._create_connection` is the hook each of aiohttp's connectors
implements (and third-party connectors override); tests/plugin run every case through it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import aiohttp

from contracts.routing.hosts import Hosts
from contracts.routing.inprocess import InProcess


@contextlib.contextmanager
def route(hosts: Hosts, fake: InProcess) -> Iterator[None]:
    create = aiohttp.TCPConnector._create_connection

    async def create_connection(
        connector: aiohttp.TCPConnector, request: Any, traces: Any, timeout: Any
    ) -> Any:
        url = request.url
        if url.raw_host not in hosts:
            return await create(connector, request, traces, timeout)
        sock = await fake.connect_async(url.scheme, url.raw_host, url.port)
        _, protocol = await asyncio.get_running_loop().create_connection(connector._factory, sock=sock)
        return protocol

    with mock.patch.object(aiohttp.TCPConnector, "_create_connection", create_connection):
        yield
