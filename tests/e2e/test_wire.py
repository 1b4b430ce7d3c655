"""The wire's bargain with uvicorn: the guarded protocol reads and writes uvicorn's private
state, so at start-up a rehearsal checks what it relies on; where the installed uvicorn differs
(simulated here by changing uvicorn's protocol), the fake serves with uvicorn's own protocol,
with uvicorn's own limits, one warning, and answers all the same."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pickle
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from mockserver.server import EndsEarly, config
from mockserver.server.rehearsal import Recorder, connection, rehearse, run_rehearsal, wire_problem
from mockserver.server.wire import CONTINUE, GuardedHttpProtocol
from tests.e2e.test_slow_clients import closed_within, connect, poll_works, running
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body, make_app, make_settings

SHARED_KEYS = 30  # CPython's limit on a class's shared instance-dictionary keys
FALLBACK = "serving with uvicorn's own httptools protocol"


def test_the_guarded_protocol_serves_on_the_installed_uvicorn() -> None:
    assert wire_problem() is None
    assert config(make_app(), make_settings()).http is GuardedHttpProtocol


def test_a_small_answer_leaves_in_one_write_and_the_interim_answer_alone() -> None:
    # What the speed relies on (not checked at start-up): uvicorn writes a head, then its body.
    out = Recorder()
    assert asyncio.run(run_rehearsal(GuardedHttpProtocol, out)) is None
    continued, answer, head_only = out.sent
    assert continued == CONTINUE
    assert answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(b"\r\n\r\nok")
    assert head_only.startswith(b"HTTP/1.1 200 ") and head_only.endswith(b"\r\n\r\n")


def test_uvicorns_connection_attributes_stay_within_the_shared_dictionary_keys() -> None:
    async def served() -> GuardedHttpProtocol:
        protocol = connection(GuardedHttpProtocol, Recorder())
        assert isinstance(protocol, GuardedHttpProtocol)
        protocol.data_received(b"GET /check HTTP/1.1\r\nHost: check\r\n\r\n")
        await asyncio.sleep(0.01)
        protocol.connection_lost(None)
        return protocol

    assert len(vars(asyncio.run(served()))) <= SHARED_KEYS


def _state_not_in_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """A uvicorn that stops copying its lifespan state into each request's scope."""
    original = HttpToolsProtocol.on_message_begin

    def on_message_begin(self: Any) -> None:
        original(self)
        self.scope["state"] = {}

    monkeypatch.setattr(HttpToolsProtocol, "on_message_begin", on_message_begin)


def _state_renamed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A uvicorn that keeps the lifespan state under another name (and uses it itself)."""
    original_init, original_begin = HttpToolsProtocol.__init__, HttpToolsProtocol.on_message_begin

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.lifespan_state = self.__dict__.pop("app_state")

    def on_message_begin(self: Any) -> None:
        self.app_state = self.lifespan_state
        original_begin(self)
        del self.app_state

    monkeypatch.setattr(HttpToolsProtocol, "__init__", init)
    monkeypatch.setattr(HttpToolsProtocol, "on_message_begin", on_message_begin)


def _constructor_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A uvicorn whose protocol takes another argument."""
    original = HttpToolsProtocol.__init__

    def init(self: Any, config: Any, server_state: Any, app_state: Any, limits: Any) -> None:
        original(self, config, server_state, app_state)

    monkeypatch.setattr(HttpToolsProtocol, "__init__", init)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (_state_not_in_requests, "lacks the connection's abort (its `app_state`)"),
        (_state_renamed, "its protocol has no `app_state`"),
        (_constructor_changed, "TypeError"),
    ],
)
def test_the_rehearsal_says_what_a_changed_uvicorn_lacks(
    change: Any, named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    change(monkeypatch)
    problem = rehearse(GuardedHttpProtocol)
    assert problem is not None and named in problem


@pytest.fixture
def changed_uvicorn(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Where the guarded protocol cannot run but uvicorn's own still serves."""
    _state_not_in_requests(monkeypatch)
    wire_problem.cache_clear()
    yield
    wire_problem.cache_clear()


@pytest.mark.usefixtures("changed_uvicorn")
def test_a_changed_uvicorn_gets_its_own_protocol_with_its_own_limits_and_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="mockserver.server"):
        made = config(make_app(), make_settings(max_connections=50, keepalive_timeout=3, shutdown_timeout=2))
    assert made.http == "httptools" and made.limit_concurrency == 51
    assert (made.timeout_keep_alive, made.timeout_graceful_shutdown) == (3, 2)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "mockserver.server"]
    assert FALLBACK in warning and "`app_state`" in warning and "\n" not in warning


@pytest.mark.usefixtures("changed_uvicorn")
def test_a_changed_uvicorn_still_answers_requests_100_continue_and_closes_idle_connections() -> None:
    body = orjson.dumps(evolink_body())
    with running(keepalive_timeout=0.5) as (_, port, server):
        assert server.config.http == "httptools"
        assert poll_works(port)
        with connect(port) as sock:
            sock.sendall(
                f"POST {EVOLINK_CREATE} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer mock-key\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                "Expect: 100-continue\r\n\r\n".encode()
            )
            sock.settimeout(2)
            assert sock.recv(len(CONTINUE)) == CONTINUE
            sock.sendall(body)
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
            assert closed_within(sock, 3)  # uvicorn's keep-alive limit


@pytest.mark.usefixtures("changed_uvicorn")
@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_a_connection_fault_on_a_changed_uvicorn_breaks_the_answer_and_the_fake_stays_up(fault: str) -> None:
    with running() as (_, port, _), httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
        task = http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body()).json()
        with pytest.raises(httpx.RemoteProtocolError):
            http.get(f"/v1/tasks/{task['id']}", headers={**AUTH, "X-Mock-Fault": fault})
        assert poll_works(port)


def test_a_workers_app_factory_is_wrapped_and_still_travels_to_the_workers() -> None:
    factory = pickle.loads(pickle.dumps(EndsEarly.around("tests.helpers:make_app", factory=True)))
    assert isinstance(factory(), EndsEarly)


def test_connections_beyond_uvicorns_own_cap_are_answered_503_on_a_changed_uvicorn(
    changed_uvicorn: None,
) -> None:
    with running(max_connections=2, header_timeout=5) as (_, port, _), contextlib.ExitStack() as stack:
        for _ in range(2):
            stack.enter_context(connect(port))
        with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
            extra.sendall(b"GET /__mock/clock HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert extra.recv(65536).startswith(b"HTTP/1.1 503 ")
