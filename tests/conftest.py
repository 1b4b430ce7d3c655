"""Suite-wide fixtures: every fake built here checks its responses against the specs, and a
test fails if a fake sent anything the spec does not allow during it (each violation is logged
on `mockserver.conformance`)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from mockserver.store.base import Store
from mockserver.store.memory import MemoryStore
from tests.store.copying import CopyingStore

# Apps built from the environment (the CLI, subprocesses) check their responses too.
os.environ.setdefault("MOCKSERVER_CHECK_RESPONSES", "1")

hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
hypothesis_settings.load_profile("ci")


STORES = {"memory": MemoryStore, "copying": CopyingStore}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest) -> Store:
    """Each store in turn: suites that take this fixture run against all of them."""
    made: Store = STORES[request.param]()
    return made


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
