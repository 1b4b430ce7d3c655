"""How answers leave the server: a response's head is held until its body so a small answer is
one write (one system call, one TCP segment); nothing held is lost, reordered or sent after a
reset. The transport alone against a recording one, then the server over real sockets."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from mockserver.server.wire import HeldHeadTransport
from tests.e2e.test_slow_clients import connect, running
from tests.helpers import EVOLINK_CREATE, evolink_body


class Recording(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, Any]] = []
        self.closing = False

    def write(self, data: Any) -> None:
        self.calls.append(("write", bytes(data)))

    def writelines(self, list_of_data: Any) -> None:
        self.calls.append(("writelines", [bytes(d) for d in list_of_data]))

    def close(self) -> None:
        self.closing = True
        self.calls.append(("close", None))

    def abort(self) -> None:
        self.closing = True
        self.calls.append(("abort", None))

    def is_closing(self) -> bool:
        return self.closing


def test_a_head_and_its_body_leave_in_one_call_and_the_next_response_is_held_again() -> None:
    inner = Recording()
    out = HeldHeadTransport(inner)
    out.write(b"head 1")
    assert inner.calls == []
    out.write(b"body 1")
    out.response_complete()
    out.write(b"head 2")
    out.write(b"chunk 2a")
    out.write(b"chunk 2b")  # a streamed body goes out as it comes
    out.response_complete()
    assert inner.calls == [
        ("writelines", [b"head 1", b"body 1"]),
        ("writelines", [b"head 2", b"chunk 2a"]),
        ("write", b"chunk 2b"),
    ]


def test_a_response_with_no_body_is_sent_at_its_end_and_a_close_sends_what_is_held() -> None:
    inner = Recording()
    out = HeldHeadTransport(inner)
    out.write(b"head of a HEAD answer")
    out.response_complete()
    out.write(b"431 refusal")
    out.close()
    assert inner.calls == [("write", b"head of a HEAD answer"), ("write", b"431 refusal"), ("close", None)]


def test_an_abort_sends_nothing_held() -> None:
    inner = Recording()
    out = HeldHeadTransport(inner)
    out.write(b"head")
    out.abort()
    out.response_complete()
    assert inner.calls == [("abort", None)]


def read_answers(sock: socket.socket, count: int) -> list[bytes]:
    """`count` whole answers (heads with a content-length) from the socket."""
    data, answers = b"", []
    while len(answers) < count:
        head, found, rest = data.partition(b"\r\n\r\n")
        if found:
            lines = head.lower().split(b"\r\n")
            length = next(int(line.split(b":")[1]) for line in lines if line.startswith(b"content-length"))
            if len(rest) >= length:
                answers.append(head + found + rest[:length])
                data = rest[length:]
                continue
        chunk = sock.recv(65536)
        assert chunk, "the connection closed early"
        data += chunk
    return answers


def test_pipelined_requests_are_answered_whole_and_in_order_over_a_socket() -> None:
    with running(keepalive_timeout=5) as (_, port, _), connect(port) as sock:
        requests = [f"GET /v1/tasks/task-unified-{n}-x HTTP/1.1\r\nHost: a\r\n\r\n" for n in range(5)]
        sock.sendall("".join(requests).encode())
        answers = read_answers(sock, 5)
    assert all(answer.startswith(b"HTTP/1.1 401 ") for answer in answers)  # no key: each refused
    assert [answer.count(b"HTTP/1.1") for answer in answers] == [1] * 5


def test_a_head_request_is_answered_at_once_not_when_the_connection_ends() -> None:
    with running(keepalive_timeout=5) as (_, port, _), connect(port) as sock:
        sock.settimeout(2)  # the keep-alive would close it (and send what was held) at 5 s
        sock.sendall(b"HEAD /__mock/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")


CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def test_an_interim_answer_leaves_at_once_and_the_final_head_is_still_held() -> None:
    inner = Recording()
    out = HeldHeadTransport(inner)
    out.write(CONTINUE)  # uvicorn's answer to `Expect: 100-continue`, before the body is read
    assert inner.calls == [("write", CONTINUE)]
    out.write(b"head")
    out.write(b"body")
    out.response_complete()
    assert inner.calls[1:] == [("writelines", [b"head", b"body"])]


def test_expect_100_continue_is_answered_before_the_body_is_sent_over_a_socket() -> None:
    body = orjson.dumps(evolink_body())
    with running(keepalive_timeout=5) as (_, port, _), connect(port) as sock:
        sock.sendall(
            f"POST {EVOLINK_CREATE} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer mock-key\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Expect: 100-continue\r\n\r\n".encode()
        )
        sock.settimeout(2)  # a client waiting for the interim answer would hang without it
        assert sock.recv(len(CONTINUE)) == CONTINUE
        sock.sendall(body)
        [answer] = read_answers(sock, 1)
    assert answer.startswith(b"HTTP/1.1 200 ") and b'"status":"pending"' in answer.replace(b" ", b"")


CURL_MISSING = "curl not found on PATH; install it (Debian: apt-get install curl)"


@pytest.mark.skipif(shutil.which("curl") is None, reason=CURL_MISSING)
def test_curl_sending_a_large_body_gets_100_continue_and_does_not_wait_for_it(tmp_path: Path) -> None:
    body = tmp_path / "body.json"
    body.write_bytes(orjson.dumps(evolink_body(prompt="A cat walking " * 300)))  # over curl's 1 KiB
    with running(keepalive_timeout=5) as (_, port, _):
        done = subprocess.run(
            [
                *("curl", "-sS", "-v", "--expect100-timeout", "3", "-o", "/dev/null"),
                *("-w", "%{http_code} %{time_total}", "-H", "Authorization: Bearer mock-key"),
                *("-H", "Content-Type: application/json", "-H", "Expect: 100-continue"),
                *("--data-binary", f"@{body}", f"http://127.0.0.1:{port}{EVOLINK_CREATE}"),
            ],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    status, seconds = done.stdout.split()
    assert status == "200"
    assert "< HTTP/1.1 100 Continue" in done.stderr
    assert "Done waiting for 100-continue" not in done.stderr  # curl gave up waiting: the bug
    assert float(seconds) < 2  # curl would have waited its 3 s
