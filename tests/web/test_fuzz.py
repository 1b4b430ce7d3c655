"""Hostile input, generated: whatever the method, path, query, headers and body, the fake answers
below 500 unless a fault asked for a 5xx, always in JSON of the owning API's envelope (the suite's
conformance check fails any test whose answers break the specs), and over a real socket a 4xx
leaves a kept-alive connection usable. Sized for the suite; bench/ has no bigger run because
the generator's space, not its count, is what finds bugs."""

from __future__ import annotations

import json
import re
import socket
import string
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mockserver.transport import SyncASGITransport
from tests.helpers import live_server, make_app

ROUTES = [
    "/v1/videos/generations",
    "/v1/tasks/task-unified-1767225600-aaaaaaaa",
    "/apiv1/v1/videos/generations",
    "/apiv1/v1/tasks/x",
    "/v2/video/generations",
    "/__mock/clock/advance",
    "/__mock/tasks",
    "/__mock/tasks/x/fail",
    "/__mock/faults",
    "/__mock/requests",
    "/__mock/specs/evolink",
    "/files/abc.mp4",
    "/",
]
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
PRINTABLE = string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=% \t"
HEADER_NAMES = [
    "Authorization",
    "Content-Type",
    "X-Mock-Fault",
    "X-Mock-Fail",
    "Origin",
    "Sec-Fetch-Site",
    "Host",
    "Accept",
    "X-Anything",
]
FAULT = re.compile(r"\s*5\d\d\s*")  # X-Mock-Fault asking for a 5xx, as the fake reads it


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text()
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )


BODIES = st.one_of(
    st.binary(max_size=200),
    json_values().map(lambda value: json.dumps(value).encode()),
    st.fixed_dictionaries(
        {},
        optional={
            "model": st.sampled_from(["kling-o1-image-to-video", "klingai/video-o1-image-to-video"])
            | st.text(),
            "prompt": st.text(max_size=50)
            | st.sampled_from(["[mock:fault=503]", "[mock:fail=x]", "[mock:fault=²]"]),
            "image_urls": st.lists(st.text(max_size=30), max_size=3) | json_values(),
            "image_url": st.text(max_size=30),
            "duration": st.sampled_from([5, 10, 5.0, "5", -1, 10**30, None, 7.5]),
            "aspect_ratio": st.sampled_from(["16:9", "9:16", "x", None]),
            "callback_url": st.sampled_from(
                ["https://127.0.0.1./h", "https://[::7f00:1]/", "ftp://x", "https://"]
            ),
            "seconds": st.sampled_from([1, -1, 1e308, "1", None]),
            "code": st.text(max_size=10),
            "message": st.text(max_size=10),
        },
    ).map(lambda body: json.dumps(body).encode()),
    st.just(b'{"a":' * 3000 + b"1" + b"}" * 3000),  # deep nesting
    st.just(
        b'{"model": "kling-o1-image-to-video", "prompt": "\\ud800", "image_urls": ["https://a.b/c.jpg"]}'
    ),
)


def asked_for_a_5xx(headers: dict[str, str], body: bytes) -> bool:
    return bool(FAULT.fullmatch(headers.get("X-Mock-Fault", ""))) or b"[mock:fault=5" in body


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(ROUTES) | st.text(alphabet=PRINTABLE, max_size=40).map(lambda p: "/" + p),
    query=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=3),
    headers=st.dictionaries(
        st.sampled_from(HEADER_NAMES), st.text(alphabet=string.printable[:95], max_size=30), max_size=4
    ),
    body=BODIES,
    auth=st.booleans(),
)
def test_no_input_gets_a_server_error_in_process(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes, auth: bool
) -> None:
    if auth:
        headers = {**headers, "Authorization": "Bearer mock-key"}
    try:
        request = httpx.Request(
            method, "http://127.0.0.1:8000" + path, params=query, headers=headers, content=body
        )
    except (httpx.InvalidURL, UnicodeEncodeError, ValueError):
        return  # not a request any client can send

    response = HTTP.send(request)
    if response.status_code >= 500:
        assert asked_for_a_5xx(headers, body), (response.status_code, response.text[:300])
    if method != "HEAD" and response.headers.get("content-type") != "video/mp4":
        assert response.headers["content-type"].startswith("application/json"), response.text[:200]
        json.loads(response.content)


# One app on one event loop for every example (SyncASGITransport runs it in a daemon thread).
HTTP = httpx.Client(transport=SyncASGITransport(make_app()), base_url="http://127.0.0.1:8000")


def exchange(sock: socket.socket, raw: bytes, head_only: bool = False) -> tuple[int, bytes, bool]:
    """Send one raw request; (status, head, whether the server said it closes the connection)."""
    sock.sendall(raw)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before answering")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = (
        int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        if b"content-length" in head.lower()
        else 0
    )  # type: ignore[union-attr]
    while not head_only and len(rest) < length:
        rest += sock.recv(65536)
    status = int(head.split(b" ", 2)[1])
    return status, head, b"connection: close" in head.lower()


@pytest.mark.slow
@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(ROUTES)
    | st.binary(min_size=1, max_size=40)
    .map(lambda b: b"/" + b.replace(b" ", b"%20").replace(b"\r", b"").replace(b"\n", b""))
    .map(lambda b: b.decode("latin-1")),
    header=st.binary(max_size=40).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b"")),
    body=BODIES,
)
def test_over_a_socket_a_4xx_keeps_the_connection_and_nothing_gets_a_5xx(
    method: str, path: str, header: bytes, body: bytes
) -> None:
    raw = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer mock-key\r\n".encode("latin-1")
        + b"X-Fuzz: "
        + header
        + b"\r\n"
        + b"Content-Type: application/json\r\n"
        + b"Content-Length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )
    with socket.create_connection(("127.0.0.1", port()), timeout=10) as sock:
        status, head, closing = exchange(sock, raw, head_only=method == "HEAD")
        assert status < 500 or b"[mock:fault=5" in body, head
        if status == 400 and b"text/plain" in head:  # not HTTP at all: uvicorn's own answer, then close
            assert closing
            return
        if not closing:
            again, _, _ = exchange(sock, b"GET /__mock/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert again == 200


SERVER: list[int] = []  # the port of the module's live server (hypothesis tests take no fixtures)


def port() -> int:
    return SERVER[0]


@pytest.fixture(scope="module", autouse=True)
def server() -> Any:
    with live_server(make_app()) as base:
        SERVER.append(int(base.rsplit(":", 1)[1]))
        yield
        SERVER.clear()
