"""Loopback servers for the upstream tests: an app on a port chosen before it is built (a proxy
names its own address as its public URL), and a callback receiver that keeps what it got."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.server import config as server_config
from mockserver.settings import Settings


def loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextlib.contextmanager
def serving(app: Any, sock: socket.socket, timeout: float = 10.0) -> Iterator[str]:
    """Serve `app` on a bound loopback socket in a thread; stops (lifespan included) on exit."""
    fake = getattr(getattr(app, "state", None), "mock", None)
    settings = fake.settings if fake is not None else Settings()
    config = server_config(app, settings, host="127.0.0.1", port=0, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()


@dataclass
class Receiver:
    """A callback receiver: keeps each POST (path, headers, JSON body) and answers `status`."""

    status: int = 200
    got: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def app(self) -> Starlette:
        async def hook(request: Request) -> Response:
            self.got.append(
                {"path": request.url.path, "headers": dict(request.headers), "body": await request.json()}
            )
            self.arrived.set()
            return JSONResponse({"received": True}, self.status)

        return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.got) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.got) >= count, f"{len(self.got)} callback(s) of {count} arrived"
        return self.got
