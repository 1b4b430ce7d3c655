"""urllib3, and requests through it: a connection to a routed host (directly, or tunnelled
through a proxy) gets the fake's end of a socket pair instead of a TCP connection and TLS, so
urllib3's own retries, timeouts, pooling and errors work as against a server; requests maps
them to its exceptions as usual.

Contracts layer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

import urllib3.connection
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from contracts.routing.hosts import Hosts
from contracts.routing.inprocess import InProcess

HTTPConnection = urllib3.connection.HTTPConnection
HTTPSConnection = urllib3.connection.HTTPSConnection


@contextlib.contextmanager
def route(hosts: Hosts, fake: InProcess) -> Iterator[None]:
    plain_connect, tls_connect = HTTPConnection.connect, HTTPSConnection.connect

    def routed(connection: HTTPConnection) -> bool:
        """Connect `connection` to the fake if it goes to a routed host (True), else nothing."""
        host = connection._tunnel_host or connection.host
        if host not in hosts:
            return False
        https = isinstance(connection, HTTPSConnection)
        port = connection._tunnel_port or connection.port or (443 if https else 80)
        sock = fake.connect("https" if https else "http", host, port)
        timeout: object = connection.timeout
        if timeout is not _DEFAULT_TIMEOUT:  # as urllib3's own create_connection
            sock.settimeout(connection.timeout)
        connection.sock = sock
        connection.is_verified = https  # nothing to verify: the fake is in this process
        return True

    def plain(connection: HTTPConnection) -> None:
        if not routed(connection):
            plain_connect(connection)

    def tls(connection: HTTPSConnection) -> None:
        if not routed(connection):
            tls_connect(connection)

    with (
        mock.patch.object(HTTPConnection, "connect", plain),
        mock.patch.object(HTTPSConnection, "connect", tls),
    ):
        yield
