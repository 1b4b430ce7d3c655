"""The dashboard's browser tests share one headless Chromium per module (each test opens the
page of its own fake, on its own port: a fresh origin, so a fresh sessionStorage); they skip,
saying how to install one, where no browser is found. The screenshots they save are listed at
the end of the run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.ui import browser

STARTED = time.time()  # screenshots older than this run are not listed


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if browser.found() is None:
        pytest.skip(browser.MISSING)
    with browser.chromium() as made:
        yield made


def pytest_terminal_summary(terminalreporter: Any) -> None:
    made = browser.SHOTS.glob("*.png") if browser.SHOTS.is_dir() else ()
    shots = sorted(path for path in made if path.stat().st_mtime >= STARTED)
    if shots:
        terminalreporter.write_sep("-", f"dashboard screenshots ({len(shots)}) in {browser.SHOTS}")
        for path in shots:
            terminalreporter.write_line(f"  {path.name}")
