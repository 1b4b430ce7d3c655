"""A real `redis-server` for the tests: started on a free 127.0.0.1 port with its own temporary
directory and no persistence, stopped (killed if it must be) on the way out."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

MISSING = (
    "redis-server not found on PATH; install it (Debian: apt-get install redis-server) to run the "
    "shared-store tests"
)
START_TIMEOUT = 10.0


def binary() -> str | None:
    return shutil.which("redis-server") or shutil.which("valkey-server")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def running(directory: Path) -> Iterator[str]:
    """Yields the server's base URL, `redis://127.0.0.1:<port>`."""
    found = binary()
    if found is None:
        raise RuntimeError(MISSING)
    port = _free_port()
    command = [found, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory)]
    command += ["--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT) as server:
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _ping(port):
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on 127.0.0.1:{port}")
                time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}"
        finally:
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def flush(url: str) -> None:
    """Empty the database `url` names (`redis://host:port/db`)."""
    host_port, _, db = url.removeprefix("redis://").partition("/")
    host, _, port = host_port.partition(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(f"SELECT {db or 0}\r\nFLUSHDB\r\n".encode())
        answer = b""
        while answer.count(b"\r\n") < 2:
            answer += sock.recv(64)
    if answer != b"+OK\r\n+OK\r\n":
        raise RuntimeError(f"could not flush {url}: {answer!r}")


def prefix() -> str:
    """A key prefix of its own, so stores made by different tests never meet."""
    return f"test-{uuid.uuid4().hex[:12]}:"
