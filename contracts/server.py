"""Serve an ASGI app with uvicorn on a free 127.0.0.1 port in a background thread, with the
fake's own server limits (the guarded protocol).

Contracts layer: used by the `video_mock_server` fixture and by tests.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

from mockserver.server import config as server_config
from mockserver.settings import Settings


@contextlib.contextmanager
def serve(app: Any, timeout: float = 10.0) -> Iterator[str]:
    """Yields the base URL; the server stops (and its thread ends) on exit."""
    fake = getattr(getattr(app, "state", None), "mock", None)
    settings = fake.settings if fake is not None else Settings()
    config = server_config(app, settings, host="127.0.0.1", port=0, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="video-mock-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
