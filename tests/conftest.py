"""Suite-wide fixtures: every fake built here checks its responses against the specs, and a
test fails if the fake sent anything the spec does not allow during it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings as hypothesis_settings

from mockserver import conformance

# Apps built from the environment (the CLI, subprocesses) check their responses too.
os.environ.setdefault("MOCKSERVER_CHECK_RESPONSES", "1")

hypothesis_settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
hypothesis_settings.load_profile("ci")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def no_contract_violations(request: pytest.FixtureRequest) -> Iterator[None]:
    """No response may escape the contract (openapi/*.yaml) during any test."""
    start = len(conformance.VIOLATIONS)
    yield
    new = conformance.VIOLATIONS[start:]
    if request.node.get_closest_marker("breaks_contract") is None:
        del conformance.VIOLATIONS[start:]
        assert not new, "responses outside the spec:\n" + "\n".join(new)
    del conformance.VIOLATIONS[start:]


pytest_plugins = ["pytester"]
