"""Callbacks over real loopback sockets (the lean wire, no injected transport): connections kept
per receiver where it allows, redirects reported and not followed, answers read to their cap,
odd but valid answers understood, broken ones a connection error, a receiver that never answers
cut at its deadline, and TLS verified with the receiver's name for SNI and the certificate while
the connection goes to the checked address."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from mockserver.callbacks.wire import ANSWER_CAP
from tests.helpers import AUTH, EVOLINK_CREATE, advance, client, evolink_body, make_app

pytestmark = pytest.mark.anyio
OK = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"
Answer = bytes | Callable[[asyncio.StreamWriter], Any]  # bytes to write, or what to do instead


class Receiver:
    """A receiver on the test's own loop: each request gets the next scripted answer (the last
    one again when the script runs out); `close` after an answer closes the connection."""

    def __init__(self, *answers: Answer, close: bool = False, tls: ssl.SSLContext | None = None) -> None:
        self.answers, self.close, self.tls = list(answers), close, tls
        self.connections = 0
        self.heads: list[bytes] = []
        self.port = 0
        self._handlers: set[asyncio.Task[None]] = set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Receiver]:
        server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.tls)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield self
        finally:
            server.close()
            for task in self._handlers:
                task.cancel()
            await asyncio.gather(*self._handlers, return_exceptions=True)
            await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._answer(reader, writer)
        finally:
            writer.close()

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, ValueError, ssl.SSLError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                length = int(
                    next(
                        line for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
                    ).split(b":")[1]
                )
                await reader.readexactly(length)
                answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
                if callable(answer):
                    await answer(writer)
                    break
                writer.write(answer)
                await writer.drain()
                if self.close:
                    break


async def deliver(url: str, tasks: int = 1, seconds: float = 79, **settings: Any) -> list[dict[str, Any]]:
    settings.setdefault("allow_callback_hosts", ("127.0.0.1",))
    settings.setdefault("settle_seconds", 5)
    async with client(make_app(**settings)) as http:
        for _ in range(tasks):
            created = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(callback_url=url))
            assert created.status_code == 200, created.text
        await advance(http, seconds)
        return list((await http.get("/__mock/callbacks")).json()["callbacks"])


def outcomes(deliveries: list[dict[str, Any]]) -> list[list[str]]:
    return [[a["outcome"] for a in d["attempts"]] for d in deliveries]


async def test_callbacks_to_one_receiver_share_its_kept_alive_connections() -> None:
    async with Receiver(OK).running() as receiver:
        deliveries = await deliver(
            f"http://127.0.0.1:{receiver.port}/hook", tasks=40, settle_seconds=5, callback_concurrency=4
        )
    assert outcomes(deliveries) == [["success"]] * 40
    assert len(receiver.heads) == 40 and receiver.connections <= 4


async def test_a_receiver_that_closes_after_each_answer_gets_a_new_connection_each_time() -> None:
    close = b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    async with Receiver(close, close=True).running() as receiver:
        deliveries = await deliver(f"http://127.0.0.1:{receiver.port}/hook", tasks=5, callback_concurrency=1)
    assert outcomes(deliveries) == [["success"]] * 5 and receiver.connections == 5


async def test_the_request_names_the_receiver_and_carries_the_json_body() -> None:
    async with Receiver(OK).running() as receiver:
        await deliver(f"http://127.0.0.1:{receiver.port}/hook?from=fake&x=%41")
    [head] = receiver.heads
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /hook?from=fake&x=%41 HTTP/1.1"
    headers = {line.split(": ", 1)[0].lower(): line.split(": ", 1)[1] for line in lines[1:] if line}
    assert headers["host"] == f"127.0.0.1:{receiver.port}"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"] == "mockserver-callbacks/1.0"


async def test_a_redirect_is_reported_and_never_followed_over_the_wire() -> None:
    redirect = b"HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:1/elsewhere\r\ncontent-length: 0\r\n\r\n"
    async with Receiver(redirect, OK).running() as receiver:
        [delivery] = await deliver(f"http://127.0.0.1:{receiver.port}/hook", seconds=80)
    first, second = delivery["attempts"]
    assert (first["outcome"], first["status_code"], first["detail"]) == (
        "redirect",
        302,
        "http://127.0.0.1:1/elsewhere",
    )
    assert second["outcome"] == "success" and len(receiver.heads) == 2


async def test_an_endless_answer_is_read_to_its_cap_and_its_connection_closed() -> None:
    async def endless(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n%s\r\n" % (4096, b"x" * 4096)
        with contextlib.suppress(OSError):
            for _ in range(4 * ANSWER_CAP // 4096):
                writer.write(chunk)
                await writer.drain()
            await asyncio.Event().wait()  # and never ends it

    async with Receiver(endless, OK).running() as receiver:
        deliveries = await deliver(f"http://127.0.0.1:{receiver.port}/hook", tasks=2, callback_concurrency=1)
    assert outcomes(deliveries) == [["success"], ["success"]]
    assert receiver.connections == 2  # the capped one was not used again


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.0 200 OK\r\n\r\nbody until the connection closes",
        b"HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
        b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
    ],
    ids=["http-1.0-until-close", "interim-then-final", "chunked"],
)
async def test_valid_answers_of_every_framing_are_understood(answer: bytes) -> None:
    async with Receiver(answer, close=True).running() as receiver:
        [delivery] = await deliver(f"http://127.0.0.1:{receiver.port}/hook")
    assert outcomes([delivery]) == [["success"]]


@pytest.mark.parametrize(
    "answer",
    [b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", b"not http at all\r\n\r\n", b""],
    ids=["cut-short", "not-http", "closed-at-once"],
)
async def test_a_broken_answer_is_a_connection_error_that_is_retried(answer: bytes) -> None:
    async with Receiver(answer, OK, close=True).running() as receiver:
        [delivery] = await deliver(f"http://127.0.0.1:{receiver.port}/hook", seconds=80)
    assert outcomes([delivery]) == [["connection_error", "success"]]


async def test_a_refused_connection_is_a_connection_error() -> None:
    async with Receiver(OK).running() as receiver:
        port = receiver.port
    [delivery] = await deliver(f"http://127.0.0.1:{port}/hook")
    assert outcomes([delivery]) == [["connection_error"]]
    assert "refused" in delivery["attempts"][0]["detail"].lower()


async def test_a_receiver_that_never_answers_is_cut_at_the_deadline_and_its_connection_closed() -> None:
    async def silent(writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            await asyncio.sleep(30)

    async with Receiver(silent, OK).running() as receiver:
        [delivery] = await deliver(
            f"http://127.0.0.1:{receiver.port}/hook", seconds=79 + 11, settle_seconds=0.2
        )
    assert outcomes([delivery]) == [["timeout", "success"]]
    assert delivery["attempts"][0]["duration"] == 10.0
    assert receiver.connections == 2


# -- TLS ---------------------------------------------------------------------------------------


def make_certificates(where: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA, and a certificate it signed for `name` (with its key), made by the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command: apt-get install openssl")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=where, check=True, capture_output=True, timeout=60)

    (where / "ca.ext").write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n"
        "subjectKeyIdentifier=hash\n"
    )
    (where / "leaf.ext").write_text(
        f"basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
        f"extendedKeyUsage=serverAuth\nsubjectAltName=DNS:{name}\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n"
    )
    run(
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.csr",
        "-subj",
        "/CN=test CA",
    )
    run(
        "x509",
        "-req",
        "-in",
        "ca.csr",
        "-signkey",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-extfile",
        "ca.ext",
    )
    run(
        "req",
        "-new",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
        "-subj",
        f"/CN={name}",
    )
    run(
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-days",
        "2",
        "-extfile",
        "leaf.ext",
    )
    return where / "ca.pem", where / "leaf.pem", where / "leaf.key"


class NameResolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers

    async def __call__(self, host: str, port: int) -> list[str]:
        return self.answers[host]


@pytest.mark.parametrize("trusted", [True, False])
async def test_an_https_receiver_is_verified_by_its_name_while_the_checked_address_is_connected(
    trusted: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ca, certificate, key = make_certificates(tmp_path, "hooks.test")
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    else:  # certifi's bundle: the test CA is not in it
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(certificate, key)
    names: list[str | None] = []
    server.sni_callback = lambda sock, name, context: names.append(name)  # type: ignore[assignment,misc]
    async with Receiver(OK, tls=server).running() as receiver:
        [delivery] = await deliver(
            f"https://hooks.test:{receiver.port}/hook",
            allow_callback_hosts=("hooks.test",),
            resolver=NameResolver({"hooks.test": ["127.0.0.1"]}),  # the address the guard checked
        )
    assert names and set(names) == {"hooks.test"}
    if trusted:
        assert outcomes([delivery]) == [["success"]] and len(receiver.heads) == 1
        assert receiver.heads[0].split(b"\r\n")[1] == f"Host: hooks.test:{receiver.port}".encode()
    else:
        assert outcomes([delivery]) == [["connection_error"]] and receiver.heads == []
        assert "CERTIFICATE_VERIFY_FAILED" in delivery["attempts"][0]["detail"]
