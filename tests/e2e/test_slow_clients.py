"""The server against slow and hostile clients, over real sockets on loopback: silent sockets,
heads and bodies that stall, oversized headers, too many connections, and a stop that does not
wait for them forever."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import uvicorn

from mockserver.server import config
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body, make_app, make_settings

LIMITS = {"header_timeout": 0.5, "body_timeout": 0.5, "keepalive_timeout": 0.5, "max_header_bytes": 2048}


@contextlib.contextmanager
def running(**settings: Any) -> Iterator[tuple[threading.Thread, int, uvicorn.Server]]:
    """The fake on a free loopback port with the CLI's server configuration."""
    values = {**LIMITS, **settings}
    app = make_app(**values)
    server = uvicorn.Server(config(app, make_settings(**values), host="127.0.0.1", port=0, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield thread, port, server
    finally:
        server.should_exit = True
        thread.join(10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.settimeout(5)
    return sock


def closed_within(sock: socket.socket, seconds: float) -> bool:
    """True if the server closes the connection (EOF) within `seconds`."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
        return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def poll_works(port: int) -> bool:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        task = http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body()).json()
        return http.get(f"/v1/tasks/{task['id']}", headers=AUTH).status_code == 200


def test_a_silent_socket_is_closed_after_the_header_timeout() -> None:
    with running() as (_, port, _), connect(port) as sock:
        started = time.monotonic()
        assert closed_within(sock, 5)
        assert 0.4 <= time.monotonic() - started < 3
        assert poll_works(port)


def test_a_head_sent_a_byte_at_a_time_is_cut_off_at_the_header_timeout() -> None:
    with running() as (_, port, _), connect(port) as sock:
        started = time.monotonic()
        with contextlib.suppress(OSError):
            for byte in b"GET /v1/tasks/task-unified-1-x HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"y" * 100:
                sock.send(bytes([byte]))
                time.sleep(0.02)
        assert closed_within(sock, 5) and time.monotonic() - started < 3


def test_half_a_body_is_cut_off_after_the_body_timeout_and_the_fake_stays_up() -> None:
    with running(body_timeout=0.5) as (_, port, _), connect(port) as sock:
        head = (
            f"POST {EVOLINK_CREATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer mock-key\r\n"
            'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"'
        )
        sock.sendall(head.encode())
        started = time.monotonic()
        assert closed_within(sock, 5) and time.monotonic() - started < 3
        assert poll_works(port)


def test_a_stalled_head_after_a_slow_body_meets_the_shorter_header_timeout() -> None:
    # A body that takes 0.7 s (of its 60) leaves the connection's timer set 60 s out; the next
    # head's 0.5 s deadline must still be kept.
    with running(body_timeout=60, keepalive_timeout=5) as (_, port, _), connect(port) as sock:
        body = b'{"model": "x"}'
        sock.sendall(
            f"POST {EVOLINK_CREATE} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        time.sleep(0.7)
        sock.sendall(body)
        assert sock.recv(65536).startswith(b"HTTP/1.1 ")
        sock.sendall(b"GET /v1/tasks/x HTTP/1.1\r\nHost: a\r\n")  # and no more
        started = time.monotonic()
        assert closed_within(sock, 5) and time.monotonic() - started < 3


def test_a_body_that_keeps_coming_is_not_cut_off_however_long_it_takes() -> None:
    # The body deadline is an idle one: each chunk restarts it (1.5 s in all, 0.5 s allowed idle).
    with running(body_timeout=0.5) as (_, port, _), connect(port) as sock:
        body = orjson.dumps(evolink_body())
        sock.sendall(
            f"POST {EVOLINK_CREATE} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer mock-key\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        step = len(body) // 6 + 1
        for start in range(0, len(body), step):
            time.sleep(0.25)
            sock.sendall(body[start : start + step])
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


def test_a_pipelined_head_that_stalls_is_cut_off_at_the_header_timeout() -> None:
    # After a first exchange, a whole request and the start of the next in one send: the
    # second head's deadline holds.
    with running(keepalive_timeout=5) as (_, port, _), connect(port) as sock:
        sock.sendall(b"GET /v1/tasks/x HTTP/1.1\r\nHost: a\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 ")
        time.sleep(0.6)  # past the first head's deadline, counted from the opening
        sock.sendall(b"GET /v1/tasks/x HTTP/1.1\r\nHost: a\r\n\r\nGET /v1/tasks/y HTTP/1.1\r\nHost: a\r\n")
        started = time.monotonic()
        assert sock.recv(65536).startswith(b"HTTP/1.1 ")
        assert closed_within(sock, 5) and time.monotonic() - started < 3


def test_headers_over_the_limit_answer_431_in_json_and_close() -> None:
    with running(max_header_bytes=2048) as (_, port, _), connect(port) as sock:
        sock.sendall(b"GET /v1/tasks/x HTTP/1.1\r\nHost: a\r\nX-Big: " + b"z" * 4096 + b"\r\n\r\n")
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 431") and b"connection: close" in head.lower()
        assert b'"code": "headers_too_large"' in body
        assert poll_works(port)


def test_connections_beyond_the_cap_are_closed_at_once_and_the_rest_are_served() -> None:
    with running(max_connections=8, header_timeout=3) as (_, port, _):
        silent = [connect(port) for _ in range(8)]
        extra = connect(port)
        try:
            assert closed_within(extra, 2)  # the ninth: closed at once, not after the timeout
            for sock in silent:
                sock.close()
            time.sleep(0.2)
            assert poll_works(port)
        finally:
            for sock in [*silent, extra]:
                sock.close()


def test_an_idle_kept_alive_connection_is_closed_after_the_keepalive_timeout() -> None:
    with running(keepalive_timeout=0.5) as (_, port, _), connect(port) as sock:
        sock.sendall(b"GET /__mock/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert closed_within(sock, 5) and time.monotonic() - started < 3


def test_a_stop_waits_at_most_the_shutdown_timeout_for_requests_in_flight() -> None:
    with running(body_timeout=60, shutdown_timeout=1) as (thread, port, server), connect(port) as sock:
        head = f"POST {EVOLINK_CREATE} HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n{{"
        sock.sendall(head.encode())  # a request in flight whose body never comes
        time.sleep(0.2)
        started = time.monotonic()
        server.should_exit = True
        thread.join(10)
        assert not thread.is_alive() and time.monotonic() - started < 4


@pytest.mark.parametrize("name", ["header_timeout", "max_connections", "max_header_bytes"])
def test_a_limit_must_be_positive(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        make_settings(**{name: 0})
