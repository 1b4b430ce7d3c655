"""A callback receiver on a free 127.0.0.1 port, in its own process (so it does not share the
test process's CPU with the fake): a few lines of asyncio HTTP/1.1, fast enough for bursts of
thousands. It answers 200 at once, or never (`hang`); `GET /ids` lists the task ids it got.

Run as `python -m tests.callbacks.receiver [--hang]`: prints its port, then serves until killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


async def serve(hang: bool) -> None:
    received: list[str] = []

    async def one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError, StopIteration):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if head.startswith(b"GET /ids"):
                    body = json.dumps(received).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                    await writer.drain()
                    continue
                length = next(
                    int(line.split(b":", 1)[1])
                    for line in head.split(b"\r\n")
                    if line.lower().startswith(b"content-length:")
                )
                received.append(str(json.loads(await reader.readexactly(length))["id"]))
                if hang:
                    await asyncio.Event().wait()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(one, "127.0.0.1", 0, backlog=4096)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


class LoopbackReceiver:
    def __init__(self, hang: bool = False) -> None:
        self.hang = hang
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def ids(self) -> Counter[str]:
        """How many callbacks each task got."""
        got: list[str] = httpx.get(f"http://127.0.0.1:{self.port}/ids", timeout=10).json()
        return Counter(got)

    @contextlib.contextmanager
    def running(self) -> Iterator[LoopbackReceiver]:
        command = [sys.executable, "-m", "tests.callbacks.receiver", *(["--hang"] if self.hang else [])]
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, text=True, start_new_session=True
        )
        try:
            assert process.stdout is not None
            self.port = int(process.stdout.readline())
            yield self
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
            if process.stdout is not None:
                process.stdout.close()


if __name__ == "__main__":
    asyncio.run(serve(hang="--hang" in sys.argv))
