"""Messages passing through the proxy and the relay: which headers go on (never those of one
connection, nor the fake's own `X-Mock-*`), and an answer passed on as it came.

Upstream layer.
"""

from __future__ import annotations

from starlette.responses import Response

# Headers of one connection, not of the message (RFC 9110 7.6.1), and those httpx sets itself.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        # httpx asks for what it can decode, and hands the body on decoded
        "accept-encoding",
        "content-encoding",
    }
)
MOCK_HEADERS = "x-mock-"  # the fake's own: never forwarded


def outgoing(headers: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """A request's headers as sent on: its own Authorization included; hop-by-hop headers,
    those its Connection header names, and the fake's X-Mock-* left out."""
    pairs = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [
        (name, value)
        for name, value in pairs
        if (lowered := name.lower()) not in HOP_BY_HOP
        and lowered not in named
        and not lowered.startswith(MOCK_HEADERS)
    ]


def passed_on(status: int, headers: list[tuple[str, str]], body: bytes) -> Response:
    """An answer passed on: its headers but those of its connection, the body as decoded, with
    its own length."""
    response = Response(body, status)
    response.raw_headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in headers
        if name.lower() not in HOP_BY_HOP
    ] + [(b"content-length", str(len(body)).encode())]
    return response
