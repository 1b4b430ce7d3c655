"""The plugin's own tests: `lookups` records every name lookup and connection the test makes
(under the plugin's guard, when requested before `video_mock`), and refuses any that would
leave this machine, so no test here can reach a real host whatever the plugin does."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

LOCAL = ("localhost", "127.0.0.1", "::1", "")


class Lookups:
    def __init__(self) -> None:
        self.hosts: list[str] = []

    def seen(self, host: Any) -> None:
        name = host.decode() if isinstance(host, bytes) else str(host)
        self.hosts.append(name)
        if name not in LOCAL and not name.startswith("127."):
            raise socket.gaierror(socket.EAI_NONAME, f"tests/plugin refuses to look up {name}")


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> Iterator[Lookups]:
    found = Lookups()
    getaddrinfo, connect = socket.getaddrinfo, socket.socket.connect

    def spied_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        found.seen(host)
        return getaddrinfo(host, *args, **kwargs)

    def spied_by_name(host: str) -> str:
        found.seen(host)
        return "127.0.0.1"

    def spied_connect(sock: socket.socket, address: Any) -> None:
        if isinstance(address, tuple):
            found.seen(address[0])
        connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", spied_getaddrinfo)
    monkeypatch.setattr(socket, "gethostbyname", spied_by_name)
    monkeypatch.setattr(socket.socket, "connect", spied_connect)
    yield found
