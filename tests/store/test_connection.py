"""The Redis store's own connection (`connection.py`), against a real redis-server and against
loopback servers that misbehave: one connection answers concurrent commands in order, logs in
and chooses its database, opens again after it was lost, and a store that stops answering or
answers garbage fails the commands waiting (as the errors the store turns into 503s) instead of
hanging. Each runs with hiredis and with the protocol in Python (`resp.py`)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from mockserver.engine.errors import StoreUnavailable
from mockserver.store import address, resp
from mockserver.store.connection import Connection
from mockserver.store.redis import RedisStore
from mockserver.store.resp import ReplyError
from tests import redis_server
from tests.helpers import free_port

pytestmark = pytest.mark.anyio
WAIT = 10.0  # real seconds for a redis-server of its own to start


@pytest.fixture(params=["installed", "python"])
def protocol(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """The protocol as installed (hiredis, in the test environment), and in Python."""
    if request.param == "python":
        monkeypatch.setattr(resp, "reader", resp.PythonReader)
        monkeypatch.setattr(resp, "pack_command", resp.pack)
    return str(request.param)


@pytest.fixture
async def connection(redis_base: str, protocol: str) -> AsyncIterator[Connection]:
    made = Connection(address.parse(f"{redis_base}/0"))
    yield made
    await made.close()


@contextlib.contextmanager
def own_server(directory: Path, *options: str) -> Iterator[int]:
    """A redis-server of this test's own, with `options`, on a free port."""
    found = redis_server.binary()
    if found is None:
        pytest.skip(redis_server.MISSING)
    port = free_port()
    command = [found, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", ""]
    with subprocess.Popen(
        [*command, *options], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    ) as server:
        try:
            deadline = time.monotonic() + WAIT
            while not answers(port):
                assert server.poll() is None and time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)
            yield port
        finally:
            server.terminate()
            server.wait(WAIT)


def answers(port: int) -> bool:
    """Anything at all comes back to a PING (without the password, an error does)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return bool(sock.recv(64))
    except OSError:
        return False


@contextlib.asynccontextmanager
async def loopback(answer: bytes | None) -> AsyncIterator[int]:
    """A server on 127.0.0.1 that reads what it is sent and writes `answer` once (None: never
    answers); its port."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        if answer is not None:
            writer.write(answer)
        await reader.read()  # until the client goes
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_concurrent_commands_are_answered_in_order_on_one_connection(
    connection: Connection, redis_base: str
) -> None:
    key = redis_server.prefix() + "counter"
    replies = await asyncio.gather(*(connection.call("INCR", key) for _ in range(300)))
    assert replies == list(range(1, 301))
    other = Connection(address.parse(f"{redis_base}/0"))
    try:
        mine = await connection.call("CLIENT", "ID")
        listed = (await other.call("CLIENT", "LIST", "ID", mine)).decode()
        assert listed.count("id=") == 1  # one connection served them all
    finally:
        await other.close()


async def test_replies_keep_their_kinds_and_a_refused_command_raises_its_error(
    connection: Connection,
) -> None:
    key = redis_server.prefix() + "hash"
    assert await connection.call("HSET", key, "field", b"\x00\r\n\xff") == 1
    assert await connection.call("HGET", key, "field") == b"\x00\r\n\xff"
    assert await connection.call("HGET", key, "nothing") is None
    assert await connection.call("HGETALL", key) == [b"field", b"\x00\r\n\xff"]
    with pytest.raises(ReplyError, match="WRONGTYPE"):
        await connection.call("LPUSH", key, "x")
    assert await connection.call("PING") == b"PONG"  # the connection goes on after an error


async def test_a_transaction_answers_its_commands_replies_together_and_others_go_on_in_order(
    connection: Connection,
) -> None:
    key = redis_server.prefix() + "list"
    before = connection.call("RPUSH", key, "a")
    together = connection.transaction(("RPUSH", key, "b"), ("LRANGE", key, 0, -1), ("LLEN", key))
    after = connection.call("LLEN", key)
    assert (await before, await together, await after) == (1, [2, [b"a", b"b"], 2], 2)


async def test_a_connection_the_server_closed_is_opened_again_by_a_later_command(
    connection: Connection, redis_base: str
) -> None:
    first = await connection.call("CLIENT", "ID")
    other = Connection(address.parse(f"{redis_base}/0"))
    try:
        assert await other.call("CLIENT", "KILL", "ID", first) == 1
    finally:
        await other.close()
    with contextlib.suppress(ConnectionError):  # sent before the close was noticed
        await connection.call("PING")
    assert await connection.call("CLIENT", "ID") != first


async def test_the_connection_logs_in_and_chooses_the_database_the_url_names(
    tmp_path: Path, protocol: str
) -> None:
    socket_path = tmp_path / "redis.sock"
    with own_server(tmp_path, "--requirepass", "s3cret", "--unixsocket", str(socket_path)) as port:
        by_tcp = Connection(address.parse(f"redis://:s3cret@127.0.0.1:{port}/3"))
        by_unix = Connection(address.parse(f"unix://:s3cret@{socket_path}?db=3"))
        wrong = Connection(address.parse(f"redis://:wrong@127.0.0.1:{port}/3"))
        try:
            assert await by_tcp.call("SET", "greeting", "hello") == b"OK"
            assert await by_unix.call("GET", "greeting") == b"hello"
            assert await by_unix.call("CLIENT", "INFO") != await by_tcp.call("CLIENT", "INFO")
            assert (await by_tcp.call("CLIENT", "INFO")).decode().count(" db=3 ") == 1
            with pytest.raises(ConnectionRefusedError, match="refused the connection's set-up"):
                await wrong.call("PING")
        finally:
            for connection in (by_tcp, by_unix, wrong):
                await connection.close()


async def test_a_store_that_does_not_answer_fails_the_command_after_the_urls_socket_timeout(
    protocol: str,
) -> None:
    async with loopback(None) as port:
        connection = Connection(address.parse(f"redis://127.0.0.1:{port}/0?socket_timeout=0.3"))
        started = time.monotonic()
        try:
            with pytest.raises(TimeoutError, match=r"did not answer within 0.3 s"):
                await asyncio.gather(connection.call("PING"), connection.call("PING"))
        finally:
            await connection.close()
        assert 0.25 < time.monotonic() - started < 3


async def test_an_answer_that_is_not_redis_fails_the_commands_waiting(protocol: str) -> None:
    async with loopback(b"HTTP/1.1 400 Bad Request\r\n\r\n") as port:
        connection = Connection(address.parse(f"redis://127.0.0.1:{port}/0"))
        try:
            with pytest.raises(ConnectionError, match="could not be read"):
                await connection.call("PING")
        finally:
            await connection.close()


async def test_a_store_url_the_fake_cannot_use_fails_at_open_naming_why() -> None:
    store = RedisStore("redis://127.0.0.1:6390/0?decode_responses=true")
    with pytest.raises(ValueError, match="options this fake does not read: decode_responses"):
        await store.open()
    await store.close()


async def test_a_store_that_does_not_answer_is_unavailable_to_the_engine() -> None:
    async with loopback(None) as port:
        store = RedisStore(f"redis://127.0.0.1:{port}/0?socket_timeout=0.2", prefix=redis_server.prefix())
        with pytest.raises(StoreUnavailable):
            await store.load_clock()
        assert store.reach.down
        await store.close()
