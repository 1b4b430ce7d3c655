"""The Redis protocol in Python (`resp.py`), what the store speaks where hiredis is not installed:
the same command bytes as hiredis packs, and the same replies from the same bytes however they
are cut into pieces as they arrive."""

from __future__ import annotations

import random
from typing import Any

import pytest

from mockserver.store import resp
from mockserver.store.resp import PythonReader, ReplyError

hiredis = pytest.importorskip("hiredis", reason="the oracle is hiredis: pip install 'videogen-mock[redis]'")

COMMANDS: list[tuple[resp.Arg, ...]] = [
    ("PING",),
    ("EVALSHA", "a" * 40, 0, "mockserver:", 3, "getTaskDetail", "", "0", -7, "1767225612.25", 2**70),
    ("RPUSH", "k", b"\x00\r\n\xff", "é ✓", 1.5, 0.1, 1e20, 1e-7, float("inf"), float("nan"), -0.0),
]
# Every kind of reply: status, error, integer, bulk (empty, null, with CRLF inside), arrays
# (empty, null, nested, holding errors and nulls).
WIRE = (
    b"+OK\r\n-NOSCRIPT No matching script\r\n:0\r\n:-12\r\n$0\r\n\r\n$-1\r\n$5\r\na\r\nbc\r\n"
    b'*0\r\n*-1\r\n*3\r\n$2\r\nok\r\n$0\r\n\r\n$4\r\n{"a"\r\n'
    b"*2\r\n*2\r\n:1\r\n-ERR inside\r\n*1\r\n$-1\r\n" + b"$3000\r\n" + b"x" * 3000 + b"\r\n"
)


def plain(reply: Any) -> Any:
    """A reply with its errors as ("error", message), to compare."""
    if isinstance(reply, Exception):
        return ("error", str(reply))
    if isinstance(reply, list):
        return [plain(item) for item in reply]
    return reply


def read(reader: resp.Reader, pieces: list[bytes]) -> list[Any]:
    replies = []
    for piece in pieces:
        reader.feed(piece)
        while (reply := reader.gets()) is not False:
            replies.append(plain(reply))
    return replies


@pytest.mark.parametrize("command", COMMANDS)
def test_a_command_packs_to_the_bytes_hiredis_packs(command: tuple[resp.Arg, ...]) -> None:
    assert resp.pack(command) == hiredis.pack_command(command)


def test_a_command_with_an_argument_of_another_kind_is_refused() -> None:
    with pytest.raises(TypeError):
        resp.pack(("SET", "k", True))  # type: ignore[arg-type]


def test_the_python_reader_gives_hiredis_replies_however_the_bytes_are_cut() -> None:
    expected = read(hiredis.Reader(replyError=ReplyError), [WIRE])
    assert len(expected) == 12 and expected[1] == ("error", "NOSCRIPT No matching script")
    assert read(PythonReader(), [WIRE]) == expected
    assert read(PythonReader(), [WIRE[i : i + 1] for i in range(len(WIRE))]) == expected
    draw = random.Random(22)
    for _ in range(300):
        cuts = sorted(draw.sample(range(1, len(WIRE)), draw.randint(1, 30)))
        pieces = [WIRE[start:end] for start, end in zip([0, *cuts], [*cuts, len(WIRE)], strict=True)]
        assert read(PythonReader(), pieces) == expected


def test_a_reply_is_not_given_before_all_of_it_has_arrived() -> None:
    reader = PythonReader()
    reader.feed(b"*2\r\n$3\r\nabc\r\n$3\r\nde")
    assert reader.gets() is False
    reader.feed(b"f\r\n")
    assert reader.gets() == [b"abc", b"def"] and reader.gets() is False


@pytest.mark.parametrize("reader", [PythonReader, resp.reader], ids=["python", "installed"])
@pytest.mark.parametrize("wire", [b"?what\r\n", b"$x\r\n", b"*2x\r\n"])
def test_bytes_that_are_not_the_protocol_raise_a_protocol_error(reader: Any, wire: bytes) -> None:
    reading = reader()
    reading.feed(wire)
    with pytest.raises(resp.ProtocolError):
        reading.gets()
