"""A shared store that stops answering and comes back, with a real redis-server stopped and
started on its port while requests keep coming: meanwhile every provider request gets the
provider's documented 503 (never a 500, never a dropped connection) with `X-Mock-Problem`
naming the store, the health check says 503, the log says so once each way (no traceback per
request), and once the store is back the fake serves again by itself."""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from mockserver.engine.errors import StoreUnavailable
from mockserver.store.reach import Reach, where
from mockserver.store.redis import RedisStore
from tests import redis_server
from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    EVOLINK_CREATE,
    aimlapi_body,
    evolink_body,
    free_port,
    live_server,
    make_app,
)

WAIT = 15.0  # real seconds for anything awaited here
PROBLEM = "X-Mock-Problem"


class Restartable:
    """A redis-server on one port that can be stopped and started again (empty each time)."""

    def __init__(self, directory: Path) -> None:
        found = redis_server.binary()
        if found is None:
            pytest.skip(redis_server.MISSING)
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}"
        self.command = [found, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(directory)]
        self.command += ["--save", "", "--appendonly", "no", "--loglevel", "warning"]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + WAIT
        while not redis_server._ping(self.port):
            assert self.process.poll() is None and time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Restartable]:
    server = Restartable(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Load:
    """Creates and polls a task at each provider, one after another, until stopped: what
    every request got, with the time it got it."""

    base: str
    seen: list[tuple[float, str, int | str, str | None]] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.base, headers=AUTH, timeout=10) as http:
            while not self.stopping.is_set():
                evolink = self._send(http, "POST", EVOLINK_CREATE, json=evolink_body())
                if isinstance(evolink, dict):
                    self._send(http, "GET", f"/v1/tasks/{evolink['id']}")
                aimlapi = self._send(http, "POST", AIMLAPI_PATH, json=aimlapi_body())
                if isinstance(aimlapi, dict):
                    self._send(http, "GET", AIMLAPI_PATH, params={"generation_id": aimlapi["id"]})

    def _send(self, http: httpx.Client, method: str, path: str, **options: object) -> object:
        label = f"{method} {path.split('/')[1]}"
        try:
            response = http.request(method, path, **options)  # type: ignore[arg-type]
        except httpx.HTTPError as error:
            self.seen.append((time.monotonic(), label, type(error).__name__, None))
            return None
        self.seen.append((time.monotonic(), label, response.status_code, response.headers.get(PROBLEM)))
        return response.json() if response.status_code == 200 else None

    def count(self, status: int, since: float) -> int:
        return sum(1 for at, _, got, _ in self.seen if got == status and at >= since)


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"waited {WAIT} s for {what}"
        time.sleep(0.05)


def test_a_store_that_stops_and_comes_back_answers_503_meanwhile_then_serves_again(
    redis: Restartable, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    app = make_app(store=RedisStore(f"{redis.url}/0", prefix=redis_server.prefix()))
    with live_server(app) as base, httpx.Client(base_url=base, timeout=10) as control:
        load = Load(base)
        thread = threading.Thread(target=load.run, daemon=True)
        thread.start()
        try:
            wait_for(lambda: load.count(200, 0) >= 8, "answers before the stop")
            redis.stop()
            down = time.monotonic()
            wait_for(lambda: load.count(503, down) >= 20, "answers while the store is down")
            assert control.get("/__mock/health").status_code == 503
            redis.start()
            up = time.monotonic()
            wait_for(lambda: load.count(200, up) >= 8, "answers once the store is back")
            assert control.get("/__mock/health").status_code == 200
        finally:
            load.stopping.set()
            thread.join(WAIT)
    answers = {(label, got, problem) for _, label, got, problem in load.seen}
    named = f"the fake's store does not answer: {redis.url}/0"
    allowed = {(label, 200, None) for label in ("POST v1", "GET v1", "POST v2", "GET v2")}
    allowed |= {(label, 503, named) for label in ("POST v1", "GET v1", "POST v2", "GET v2")}
    assert answers <= allowed, answers - allowed  # never a 500, a dropped connection or a 404
    assert load.count(503, down) >= 20 and load.count(200, up) >= 8
    said = [r.getMessage() for r in caplog.records if r.name == "mockserver.store"]
    assert len(said) == 2 and "does not answer" in said[0] and said[1].endswith("answers again"), said
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_the_store_is_named_without_credentials_or_options() -> None:
    assert where("redis://user:secret@127.0.0.1:6390/2?socket_timeout=1") == "redis://127.0.0.1:6390/2"
    assert where("rediss://:secret@[::1]/0") == "rediss://[::1]/0"


@pytest.mark.anyio
async def test_a_store_out_of_reach_raises_the_engines_neutral_error() -> None:
    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0", prefix=redis_server.prefix())
    with pytest.raises(StoreUnavailable) as raised:
        await store.load_clock()
    assert raised.value.where == store.reach.where and store.reach.down
    await store.close()


def test_only_a_command_sent_since_the_last_change_says_the_store_went_or_came_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="mockserver.store")
    reach = Reach("redis://127.0.0.1:6390/0")
    sent_while_up = reach.changes
    reach.failed(OSError("connection refused"), reach.changes)
    reach.worked(sent_while_up)  # its answer was on its way when the store went: still down
    assert reach.down
    sent_while_down = reach.changes
    reach.worked(sent_while_down)
    reach.failed(OSError("connection reset"), sent_while_down)  # failed on its way: still up
    assert not reach.down
    said = [r.getMessage() for r in caplog.records if r.name == "mockserver.store"]
    assert len(said) == 2 and "does not answer" in said[0] and said[1].endswith("answers again")
