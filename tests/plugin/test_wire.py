"""The fake's end of a socket pair (`contracts.routing.wire`): HTTP/1.1 as a server speaks it,
to any ASGI app, over one connection per client connection."""

from __future__ import annotations

import http.client
import json
from typing import Any

from contracts.routing.inprocess import InProcess


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers what it was asked: method, scheme, server, path, query and body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/fail":
        raise RuntimeError("the app failed")
    seen = {k: scope[k] for k in ("method", "scheme", "path")}
    seen |= {"server": list(scope["server"]), "query": scope["query_string"].decode(), "body": body.decode()}
    answer = json.dumps(seen).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(answer)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


class Connection(http.client.HTTPConnection):
    def __init__(self, fake: InProcess) -> None:
        super().__init__("api.example.com", 443)
        self.fake = fake

    def connect(self) -> None:
        self.sock = self.fake.connect("https", "api.example.com", 443)


def ask(connection: Connection, method: str, target: str, body: bytes | None = None, **headers: str) -> Any:
    connection.request(method, target, body, headers)
    answer = connection.getresponse()
    return answer.status, answer.read()


def test_requests_on_one_kept_alive_connection_reach_the_app_as_sent() -> None:
    fake = InProcess(echo)
    connection = Connection(fake)
    status, body = ask(connection, "POST", "/v1/things?x=1", b"hello")
    assert status == 200
    assert json.loads(body) == {
        "method": "POST",
        "scheme": "https",
        "path": "/v1/things",
        "server": ["api.example.com", 443],
        "query": "x=1",
        "body": "hello",
    }
    sock = connection.sock
    chunked = iter([b"he", b"llo"])  # a chunked body, as urllib3 sends a generator
    connection.request("PUT", "/again", chunked, encode_chunked=True)
    assert json.loads(connection.getresponse().read())["body"] == "hello"
    assert connection.sock is sock  # the same connection
    assert ask(connection, "HEAD", "/head") == (200, b"")
    connection.close()
    fake.close()


def test_an_absolute_target_through_a_proxy_keeps_its_path_and_query() -> None:
    connection = Connection(InProcess(echo))
    status, body = ask(connection, "GET", "https://api.example.com/v1/x?y=2")
    assert (status, json.loads(body)["path"], json.loads(body)["query"]) == (200, "/v1/x", "y=2")
    connection.close()


def test_an_app_that_fails_answers_500_and_the_connection_goes_on() -> None:
    connection = Connection(InProcess(echo))
    assert ask(connection, "GET", "/fail") == (500, b"")
    assert ask(connection, "GET", "/after")[0] == 200
    connection.close()


def test_closing_the_fake_ends_its_open_connections() -> None:
    fake = InProcess(echo)
    connection = Connection(fake)
    ask(connection, "GET", "/one")
    fake.close()
    assert connection.sock is not None and connection.sock.recv(1) == b""  # the end of the stream
    connection.close()
