"""The provider suites (lifecycles, errors, validation) run against every store."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests import helpers
from tests.conftest import STORES, store_factory


@pytest.fixture(autouse=True, params=STORES)
def each_store(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Apps made by `helpers.make_app` use this store (`helpers.client` closes it)."""
    monkeypatch.setattr(helpers, "default_store", store_factory(request, request.param))
    yield request.param
