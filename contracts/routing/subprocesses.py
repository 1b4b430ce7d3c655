"""The guard for subprocesses, where it can reach them: while the fake runs in-process, a child
started through `subprocess` (asyncio's included) gets the proxy variables (`HTTPS_PROXY`,
`HTTP_PROXY`, `ALL_PROXY`, in both cases) naming a small proxy on 127.0.0.1 in this process. It
refuses a provider's host before any lookup (`403` with the guard's message as its reason,
which curl, requests and urllib show) and passes every other host through unchanged (a
`CONNECT` tunnel, or a plain request forwarded); loopback names stay direct (`NO_PROXY`).
Not caught: children that ignore the proxy variables, children whose environment already
names a proxy (left alone), and processes started otherwise (`os.system`, `os.exec*`).

Contracts layer: asyncio and the standard library; the proxy runs on the in-process loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from typing import Any
from unittest import mock
from urllib.parse import urlsplit

from contracts.routing.hosts import Hosts
from contracts.routing.inprocess import SHARED_LOOP
from mockserver.transport import LoopThread

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")
LOOPBACK = ("localhost", "127.0.0.1", "::1")
HEAD_LIMIT = 64 * 1024
REFUSAL = (
    "video_mock: {host} is a provider's host and this test runs the fake in-process; a subprocess "
    "cannot reach it. Start the fake on a port (the video_mock_server fixture) and give the "
    "subprocess its .base_url as the base URL"
)


class GuardProxy:
    """One per process, started at the first use; `refused` holds the active fixtures' hosts."""

    def __init__(self, loop: LoopThread = SHARED_LOOP) -> None:
        self.loop = loop
        self.refused: list[Hosts] = []
        self.url: str | None = None

    def start(self) -> str:
        if self.url is None:
            port = self.loop.call(self._listen)
            self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def _listen(self) -> int:
        server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        port: int = server.sockets[0].getsockname()[1]
        return port

    def blocks(self, host: str) -> bool:
        return any(host in hosts for hosts in self.refused)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            head = await reader.readuntil(b"\r\n\r\n")
            method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
            tunnel = method.upper() == "CONNECT"
            host, port = _address(target, tunnel)
            if self.blocks(host):
                reason = REFUSAL.format(host=host)
                writer.write(
                    f"HTTP/1.1 403 {reason}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
                )
                await writer.drain()
            else:
                await _pass_on(reader, writer, head, host, port, tunnel)
        writer.close()


def _address(target: str, tunnel: bool) -> tuple[str, int]:
    if tunnel:  # CONNECT host:port
        parts = urlsplit(f"//{target}")
        return parts.hostname or "", parts.port or 443
    parts = urlsplit(target)  # a plain request's absolute URL
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


async def _pass_on(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    head: bytes,
    host: str,
    port: int,
    tunnel: bool,
) -> None:
    """Another host, as the child would have reached it without a proxy."""
    try:
        upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
    except OSError as error:
        writer.write(f"HTTP/1.1 502 {host}:{port}: {error}\r\ncontent-length: 0\r\n\r\n".encode())
        return
    if tunnel:
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
    else:
        upstream_writer.write(_origin_form(head))
    await asyncio.gather(_copy(reader, upstream_writer), _copy(upstream_reader, writer))


def _origin_form(head: bytes) -> bytes:
    """A proxied request's head as its host expects it: the request line in origin form, and one
    request per connection (the next may name another host), the other headers as sent."""
    line, *fields = head.removesuffix(b"\r\n\r\n").split(b"\r\n")
    method, target, version = line.split(b" ", 2)
    path = urlsplit(target.decode("latin-1"))
    origin = (path.path or "/") + (f"?{path.query}" if path.query else "")
    kept = [
        f for f in fields if f.split(b":", 1)[0].strip().lower() not in (b"connection", b"proxy-connection")
    ]
    return b"\r\n".join(
        [b" ".join((method, origin.encode("latin-1"), version)), *kept, b"Connection: close", b"", b""]
    )


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while chunk := await source.read(HEAD_LIMIT):
            sink.write(chunk)
            await sink.drain()
    with contextlib.suppress(OSError):
        sink.close()


PROXY = GuardProxy()


def child_environment(env: Mapping[str, str], proxy: str) -> dict[str, str]:
    """`env` with the proxy variables naming `proxy`, unless it names a proxy already."""
    if any(env.get(name) for name in PROXY_VARIABLES):
        return dict(env)
    bypass = ",".join(filter(None, (env.get("NO_PROXY") or env.get("no_proxy"), *LOOPBACK)))
    return {**env, **dict.fromkeys(PROXY_VARIABLES, proxy), "NO_PROXY": bypass, "no_proxy": bypass}


@contextlib.contextmanager
def guarded_children(hosts: Hosts) -> Iterator[None]:
    """Children started through `subprocess` (and so asyncio's) meanwhile get the proxy
    variables; this process's own environment is left as it is."""
    proxy = PROXY.start()
    start = subprocess.Popen.__init__
    positional_env = 10  # Popen(args, bufsize, executable, ..., cwd, env): env's place after args

    def init(popen: subprocess.Popen[Any], args: Any, *more: Any, **options: Any) -> None:
        if len(more) < positional_env:
            env = options.get("env")
            options["env"] = child_environment(os.environ if env is None else env, proxy)
        start(popen, args, *more, **options)

    PROXY.refused.append(hosts)
    try:
        with mock.patch.object(subprocess.Popen, "__init__", init):
            yield
    finally:
        PROXY.refused.remove(hosts)
