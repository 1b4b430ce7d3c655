"""Suite-wide fixtures: every fake built here checks its responses against the specs, and a
test fails if a fake sent anything the spec does not allow during it (each violation is logged
on `mockserver.conformance`)."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from mockserver.store.base import Store
from mockserver.store.memory import MemoryStore
from tests import redis_server
from tests.store.copying import CopyingStore

# Apps built from the environment (the CLI, subprocesses) check their responses too.
os.environ.setdefault("MOCKSERVER_CHECK_RESPONSES", "1")

hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
hypothesis_settings.load_profile("ci")


STORES = ("copying", "memory", "redis")
SHARED_DB = 1  # the database of servers started as processes (in-process stores use prefixes)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def redis_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server for the whole session, `redis://127.0.0.1:<port>`; the tests that
    need it skip, naming the install command, where it is not installed."""
    if redis_server.binary() is None:
        pytest.skip(redis_server.MISSING)
    with redis_server.running(tmp_path_factory.mktemp("redis")) as base:
        yield base


@pytest.fixture
def redis_url(redis_base: str) -> str:
    """An emptied database for processes that share a store (`--store`)."""
    url = f"{redis_base}/{SHARED_DB}"
    redis_server.flush(url)
    return url


def store_factory(request: pytest.FixtureRequest, kind: str) -> Callable[[], Store]:
    """Fresh, empty stores of one kind; Redis ones on the session's server."""
    if kind == "redis":
        from mockserver.store.redis import RedisStore

        url = f"{request.getfixturevalue('redis_base')}/0"
        return lambda: RedisStore(url, prefix=redis_server.prefix())
    return {"memory": MemoryStore, "copying": CopyingStore}[kind]


@pytest.fixture(params=STORES)
def each_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Apps made by `helpers.make_app` use each store in turn (`helpers.client` closes them);
    a suite opts in with `pytest.mark.usefixtures("each_store")`."""
    from tests import helpers  # the helpers import the app: only for the suites that opt in

    monkeypatch.setattr(helpers, "default_store", store_factory(request, request.param))
    yield request.param


@pytest.fixture(params=STORES)
async def new_store(request: pytest.FixtureRequest) -> AsyncIterator[Callable[[], Store]]:
    """Makes fresh stores of each kind in turn, closed after the test."""
    factory, made = store_factory(request, request.param), []

    def make() -> Store:
        made.append(factory())
        return made[-1]

    yield make
    for store in made:
        await store.close()


@pytest.fixture
def store(new_store: Callable[[], Store]) -> Store:
    """Each store in turn: suites that take this fixture run against all of them."""
    return new_store()


@pytest.fixture(autouse=True)
def no_contract_violations(
    request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> Iterator[None]:
    """No response may escape the contract (openapi/*.yaml) during any test."""
    caplog.set_level(logging.ERROR, logger="mockserver.conformance")
    yield
    if request.node.get_closest_marker("breaks_contract") is None:
        found = [r.getMessage() for r in caplog.records if r.name == "mockserver.conformance"]
        assert not found, "responses outside the spec:\n" + "\n".join(found)


pytest_plugins = ["pytester"]
