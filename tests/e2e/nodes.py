"""`mockserver` processes for multi-node tests: each on a free 127.0.0.1 port, started with a
deadline, and killed on the way out even when the test fails."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from tests.helpers import free_port

START_TIMEOUT = 20.0


class Node:
    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "mockserver", "--port", str(self.port), "--log-level", "warning"]
        self.printed = ""  # what it printed, once it has ended
        self.process = subprocess.Popen(
            [*command, *args],
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: workers go with it
        )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                httpx.get(f"{self.base}/__mock/clock", timeout=1).raise_for_status()
                return
            except httpx.TransportError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"mockserver did not start: {self.printed}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL to it and its workers: no shutdown, no release of what it holds."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.printed += self.process.communicate(timeout=10)[0] or ""

    def stop(self) -> None:
        """SIGTERM (a graceful shutdown), then SIGKILL if it lingers."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.printed += self.process.communicate(timeout=10)[0] or ""
                return
            except subprocess.TimeoutExpired:
                pass
        self.kill()


@contextlib.contextmanager
def cluster(store: str, *common: str, **env: str) -> Iterator[Cluster]:
    """Start nodes sharing `store` with `cluster.start(*args)`; all are stopped on exit."""
    group = Cluster(store, list(common), {f"MOCKSERVER_{k.upper()}": v for k, v in env.items()})
    try:
        yield group
    finally:
        for node in group.nodes:
            node.stop()


class Cluster:
    def __init__(self, store: str, common: list[str], env: dict[str, str]) -> None:
        self.store, self.common, self.env = store, common, env
        self.nodes: list[Node] = []

    def start(self, *args: str) -> Node:
        node = Node(["--store", self.store, *self.common, *args], self.env)
        self.nodes.append(node)
        return node
