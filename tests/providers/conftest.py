"""The provider suites (lifecycles, errors, validation) run against every store."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def every_store(each_store: str) -> str:
    """Each provider test once per store (`tests/conftest.py`'s `each_store`)."""
    return each_store
