"""`urllib.request` (the standard library): its HTTP and HTTPS handlers open a routed URL on a
connection whose socket is the fake's end of a socket pair; http.client then reads real bytes,
raising what it raises against a server (`RemoteDisconnected`, `IncompleteRead`, ...).

Contracts layer: standard library only.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import socket
import urllib.request
from collections.abc import Iterator
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from contracts.routing.hosts import Hosts
from contracts.routing.inprocess import InProcess


class RoutedConnection(http.client.HTTPConnection):
    """An HTTP connection to the fake in-process, whatever host and proxy it was given."""

    def __init__(
        self, fake: InProcess, scheme: str, target: str, port: int, host: str, **options: Any
    ) -> None:
        super().__init__(host, timeout=options.get("timeout", socket._GLOBAL_DEFAULT_TIMEOUT))  # type: ignore[attr-defined]
        self.fake, self.scheme, self.target, self.target_port = fake, scheme, target, port

    def set_tunnel(self, host: str, port: int | None = None, headers: Any = None) -> None:
        """No proxy in between: the connection reaches the fake directly."""

    def connect(self) -> None:
        self.sock = self.fake.connect(self.scheme, self.target, self.target_port)
        if self.timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
            self.sock.settimeout(self.timeout)


@contextlib.contextmanager
def route(hosts: Hosts, fake: InProcess) -> Iterator[None]:
    plain_open = urllib.request.HTTPHandler.http_open
    tls_open = urllib.request.HTTPSHandler.https_open

    def opener(
        handler: urllib.request.AbstractHTTPHandler, request: urllib.request.Request, scheme: str
    ) -> Any:
        url = urlsplit(request.full_url)
        port = url.port or (443 if scheme == "https" else 80)
        connection = functools.partial(RoutedConnection, fake, scheme, url.hostname or "", port)
        return handler.do_open(connection, request)

    def http_open(handler: urllib.request.HTTPHandler, request: urllib.request.Request) -> Any:
        if urlsplit(request.full_url).hostname in hosts:
            return opener(handler, request, "http")
        return plain_open(handler, request)

    def https_open(handler: urllib.request.HTTPSHandler, request: urllib.request.Request) -> Any:
        if urlsplit(request.full_url).hostname in hosts:
            return opener(handler, request, "https")
        return tls_open(handler, request)

    with (
        mock.patch.object(urllib.request.HTTPHandler, "http_open", http_open),
        mock.patch.object(urllib.request.HTTPSHandler, "https_open", https_open),
    ):
        yield
