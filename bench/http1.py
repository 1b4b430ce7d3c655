"""A minimal HTTP/1.1 client on one keep-alive socket: the same bytes on every run, so what the
server does cannot vary with the client (the deterministic mode's load, and set-up requests)."""

from __future__ import annotations

import json
import socket
from typing import Any

from bench.bodies import KEY


class Connection:
    """One keep-alive connection to 127.0.0.1:port; answers must carry a Content-Length."""

    def __init__(self, port: int, timeout: float) -> None:
        self.host = f"127.0.0.1:{port}"
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        self.sock.sendall(encode(method, self.host, path, body))
        return self.answer()

    def send(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request encoded beforehand; return the answer's status and body."""
        self.sock.sendall(raw)
        return self.answer()

    def pipelined(self, raw: bytes, count: int, depth: int = 64) -> list[int]:
        """Send `raw` `count` times, `depth` requests at a time; return the answers' statuses."""
        statuses = []
        while len(statuses) < count:
            batch = min(depth, count - len(statuses))
            self.sock.sendall(raw * batch)
            statuses += [self.answer()[0] for _ in range(batch)]
        return statuses

    def answer(self) -> tuple[int, bytes]:
        head = self._until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(head[0].split(" ", 2)[1])
        length = next(
            (int(line.split(":", 1)[1]) for line in head[1:] if line.lower().startswith("content-length:")),
            None,
        )
        if length is None:
            raise RuntimeError(f"an answer without Content-Length: {head[0]}")
        return status, self._exactly(length)

    def _until(self, marker: bytes) -> bytes:
        while (end := self.buffer.find(marker)) < 0:
            self._fill()
        head, self.buffer = self.buffer[:end], self.buffer[end + len(marker) :]
        return head

    def _exactly(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"{self.host} closed the connection")
        self.buffer += chunk


def encode(method: str, host: str, path: str, body: dict[str, Any] | None = None) -> bytes:
    """The request with the fewest headers the APIs take: Host, the key, a JSON body if any."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Authorization: Bearer {KEY}"]
    payload = b""
    if body is not None:
        payload = json.dumps(body).encode()
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
