"""A subscriber of `GET /__mock/events` for tests: a raw HTTP/1.1 client on a thread (chunked
body decoded, Server-Sent Events parsed), so a test can act on the fake and then wait, with a
deadline, for what the stream shows; and a subscriber that never reads."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

WAIT = 15.0  # seconds a test waits at most for what it expects


@dataclass
class Message:
    id: str | None
    event: str
    data: dict[str, Any] = field(default_factory=dict)


def request(
    base: str, params: dict[str, str] | None, headers: dict[str, str] | None
) -> tuple[str, int, bytes]:
    url = urlsplit(base)
    path = "/__mock/events" + ("?" + urlencode(params) if params else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {url.netloc}", "Accept: text/event-stream"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return url.hostname or "127.0.0.1", url.port or 80, ("\r\n".join(lines) + "\r\n\r\n").encode()


class Stream:
    def __init__(
        self, base: str, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ):
        self.host, self.port, self.raw = request(base, params, headers)
        self.status: int | None = None
        self.messages: list[Message] = []
        self.comments: list[str] = []
        self.ended = threading.Event()
        self._opened = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        if not self._opened.wait(WAIT):
            raise AssertionError("the event stream did not open")

    def _run(self) -> None:
        try:
            with socket.create_connection((self.host, self.port), timeout=WAIT) as sock:
                sock.settimeout(0.1)
                sock.sendall(self.raw)
                self._read(sock)
        except OSError:
            pass
        finally:
            self._opened.set()
            self.ended.set()

    def _read(self, sock: socket.socket) -> None:
        buffer, body, head_done, text = b"", b"", False, ""
        while not self._stop.is_set():
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            buffer += chunk
            if not head_done:
                head, found, buffer = buffer.partition(b"\r\n\r\n")
                if not found:
                    buffer = head
                    continue
                head_done, self.status = True, int(head.split(b" ", 2)[1])
                if self.status != 200:
                    self._opened.set()
                    return
            body, buffer = _chunks(buffer)
            text += body.decode()
            *blocks, text = text.split("\n\n")
            for block in blocks:
                self._take(block)

    def _take(self, block: str) -> None:
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, _, value = line.partition(": ")
            if name == "":
                self.comments.append(value)
            elif name != "retry":
                fields[name] = value
        if "event" in fields:
            self.messages.append(
                Message(fields.get("id"), fields["event"], json.loads(fields.get("data", "{}")))
            )
        if self.comments:
            self._opened.set()

    def wait_for(self, done: Callable[[list[Message]], bool], what: str = "") -> list[Message]:
        deadline = time.monotonic() + WAIT
        while not done(list(self.messages)):
            if time.monotonic() > deadline or (self.ended.is_set() and not done(list(self.messages))):
                kinds = [m.event for m in self.messages]
                raise AssertionError(f"the stream did not show {what or 'what was expected'}: {kinds}")
            time.sleep(0.01)
        return list(self.messages)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(WAIT)


def _chunks(buffer: bytes) -> tuple[bytes, bytes]:
    """The whole chunks at the start of `buffer` (chunked transfer coding), and what is left."""
    body = b""
    while True:
        size_line, found, rest = buffer.partition(b"\r\n")
        if not found:
            return body, buffer
        size = int(size_line.split(b";")[0], 16)
        if len(rest) < size + 2:
            return body, buffer
        body, buffer = body + rest[:size], rest[size + 2 :]


@contextlib.contextmanager
def stream(base: str, **params: str) -> Iterator[Stream]:
    headers = {}
    if "last_event_id" in params:
        headers["Last-Event-ID"] = params.pop("last_event_id")
    opened = Stream(base, params or None, headers)
    try:
        yield opened
    finally:
        opened.close()


@contextlib.contextmanager
def stalled(base: str) -> Iterator[socket.socket]:
    """A subscriber that sends its request and never reads a byte (a small receive buffer)."""
    host, port, raw = request(base, None, None)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(WAIT)
    sock.connect((host, port))
    sock.sendall(raw)
    try:
        yield sock
    finally:
        sock.close()


def of_task(messages: list[Message], task_id: str) -> list[tuple[str, str, int]]:
    """A task's events as (kind, status, progress)."""
    return [
        (m.event, m.data["task"]["status"], m.data["task"]["progress"])
        for m in messages
        if m.event.startswith("task.") and m.data["task"]["id"] == task_id
    ]
