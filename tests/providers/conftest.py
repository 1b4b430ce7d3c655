"""The provider suites (lifecycles, errors, validation) run against every store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import helpers
from tests.conftest import STORES


@pytest.fixture(autouse=True, params=sorted(STORES))
def each_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(helpers, "default_store", STORES[request.param])
    yield request.param
