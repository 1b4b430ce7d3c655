"""The guard: under `video_mock`, a way out to a provider host that no route takes fails at
once, naming the host, the library and what to do, with no lookup and no connection; other
hosts are untouched; `guard=False` turns it off. Subprocesses are caught through the proxy
variables they inherit."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from contracts.mock import VideoMock
from contracts.routing import UnroutedProviderCall
from tests.plugin.conftest import Lookups

PROVIDER = "api.evolink.ai"


def http_client_request() -> None:  # http.client directly: a library the plugin does not route
    connection = http.client.HTTPSConnection(PROVIDER, timeout=5)
    connection.request("GET", "/v1/tasks/x")


def raw_socket() -> None:
    with socket.socket() as sock:
        sock.connect((PROVIDER, 443))


def create_connection() -> None:
    socket.create_connection((PROVIDER.upper() + ".", 443), timeout=5)  # any case, a trailing dot


def by_name() -> None:
    socket.gethostbyname("ai.odkkk.com")


def asyncio_stream() -> None:
    asyncio.run(asyncio.open_connection("api.aimlapi.com", 443))


WAYS_OUT = {
    "http.client": (http_client_request, "http.client"),
    "raw socket": (raw_socket, "a socket opened by tests.plugin.test_guard"),
    "create_connection": (create_connection, "a socket opened by tests.plugin.test_guard"),
    "gethostbyname": (by_name, "a socket opened by tests.plugin.test_guard"),
    "asyncio": (asyncio_stream, "a socket opened by tests.plugin.test_guard"),
}


@pytest.mark.parametrize("way", WAYS_OUT)
def test_an_unrouted_way_to_a_provider_host_fails_fast_with_no_lookup(
    way: str, lookups: Lookups, video_mock: VideoMock
) -> None:
    attempt, library = WAYS_OUT[way]
    with pytest.raises(UnroutedProviderCall) as caught:
        attempt()
    message = str(caught.value)
    assert caught.value.host.lower().rstrip(".") in ("api.evolink.ai", "ai.odkkk.com", "api.aimlapi.com")
    assert caught.value.host in message and f"through {library}," in message
    assert "video_mock_server" in message and "base URL" in message and "guard=False" in message
    assert "tests/plugin/test_guard.py:" in message  # the line that made the call
    assert lookups.hosts == []  # no lookup, no connection
    assert video_mock.requests() == []


def test_other_hosts_pass_the_guard_untouched(lookups: Lookups, video_mock: VideoMock) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        socket.create_connection(server.getsockname(), timeout=5).close()
    with pytest.raises(socket.gaierror, match=r"refuses to look up example\.org"):
        socket.getaddrinfo("example.org", 443)  # reached the lookup (this test's spy refuses it)
    assert lookups.hosts == ["127.0.0.1", "127.0.0.1", "example.org"]


@pytest.mark.video_mock(guard=False)
def test_guard_false_lets_a_test_go_out(lookups: Lookups, video_mock: VideoMock) -> None:
    with pytest.raises(OSError, match=r"refuses to look up api\.evolink\.ai"):
        http_client_request()
    assert lookups.hosts == [PROVIDER]  # the lookup was made (and refused by this test's spy)


def test_the_guard_ends_with_the_fixture(lookups: Lookups) -> None:
    from contracts.mock import video_mock

    with video_mock():
        pass
    with pytest.raises(OSError, match=r"refuses to look up api\.evolink\.ai"):
        http_client_request()


CHILD = """
import socket, sys
looked_up = []
lookup = socket.getaddrinfo
def spy(host, *args, **kwargs):
    looked_up.append(host)
    if host not in ("127.0.0.1", "127.0.0.2", "localhost"):
        raise socket.gaierror(socket.EAI_NONAME, "the child refuses to look up " + str(host))
    return lookup(host, *args, **kwargs)
socket.getaddrinfo = spy
import requests
try:
    print(requests.get(sys.argv[1], timeout=10).text)
except Exception as error:
    print(type(error).__name__, error)
print("lookups:", looked_up)
"""


def child(url: str, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env} if env else None,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_subprocess_reaching_a_provider_host_fails_fast_with_no_lookup(video_mock: VideoMock) -> None:
    out = child(f"https://{PROVIDER}/v1/tasks/x")
    assert f"403 video_mock: {PROVIDER} is a provider's host" in out and "video_mock_server" in out
    assert "lookups: ['127.0.0.1']" in out  # the proxy's address only


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl: apt-get install curl")
def test_curl_in_a_subprocess_is_refused_too(video_mock: VideoMock) -> None:
    done = subprocess.run(
        ["curl", "-sS", f"https://{PROVIDER}/"], capture_output=True, text=True, timeout=60, check=False
    )
    assert "CONNECT tunnel failed, response 403" in done.stderr


def test_a_subprocess_reaches_other_hosts_through_the_guard(video_mock: VideoMock) -> None:
    seen: list[tuple[str, str | None]] = []

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers["Connection"]))
            self.send_response(200)
            self.send_header("content-length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: object) -> None:
            pass

    # 127.0.0.2: another host to the child (only 127.0.0.1, ::1 and localhost bypass the proxy)
    with http.server.HTTPServer(("127.0.0.2", 0), Hello) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        out = child(f"http://127.0.0.2:{server.server_address[1]}/videos?page=2")
        server.shutdown()
    assert out.startswith("hello") and "lookups: ['127.0.0.1']" in out  # forwarded by the proxy
    assert seen == [("/videos?page=2", "close")]  # in origin form, one request per connection


def test_a_subprocess_with_its_own_proxy_is_left_alone(video_mock: VideoMock) -> None:
    out = child(f"https://{PROVIDER}/", HTTPS_PROXY="http://127.0.0.1:9")  # the discard port: refused
    assert "video_mock" not in out and "ProxyError" in out
