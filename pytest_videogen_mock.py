"""pytest plugin (registered under `pytest11`): the fake as fixtures.

- `video_mock`: the fake in-process; requests to api.aimlapi.com, api.evolink.ai and
  ai.odkkk.com from httpx (sync or async, the reference client included), requests, urllib3,
  aiohttp or urllib.request are answered by it; any other way out to them fails (the guard);
  callbacks go to the test's own apps (docs/pytest-routing.md).
- `video_mock_server`: the fake on a free 127.0.0.1 port (`.base_url`), for any client.

Both give the control plane from Python: `.advance(s)`, `.tasks()`, `.requests()`,
`.add_fault(...)`, `.complete(id)`, `.callbacks()`, ... Configure with the marker
`@pytest.mark.video_mock(seed=1, clock="real", speed=100, keys=[...], credits=14,
faults=[{"operation": "getTaskDetail", "status": 503}])` (any Settings field), and for
`video_mock` `hosts=[...]`, `guard=False`, `callbacks={BASE_URL: app}`, `real_callbacks=True`.

Contracts layer, under a name of its own: pytest loads it into every run of every project in
the environment, so it imports nothing but pytest until a fixture is used (then `contracts.mock`),
and a project's own `contracts`, `mockserver` or `client` cannot stop pytest from starting.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from contracts.mock import VideoMock, VideoMockServer

MARKER = "video_mock"
HELPERS = "contracts.mock"
OUR_PACKAGES = ("contracts", "mockserver")  # what the fixtures import, installed beside this module
HERE = Path(__file__).resolve().parent
NEEDS_EXTRA = (
    "the {fixture} fixture needs the contract toolkit: pip install 'videogen-mock[contracts]' ({error})"
)
HIDDEN = (
    "the {fixture} fixture needs videogen-mock's `{name}` package, but `{name}` here is {found} "
    "(a package of this project, first on sys.path). Keep that folder off sys.path for this run "
    "(`pytest` rather than `python -m pytest`, no `pythonpath` naming it) or rename it."
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): configure the video_mock fixtures (seed, clock, speed, keys, credits, "
        "rate_limit, evolink_errors, faults=[{operation, status, count, key}], ...; in-process also "
        "hosts=[...], guard=False, callbacks={BASE_URL: app}, real_callbacks=True)",
    )


def _hidden_package(name: str) -> str | None:
    """Where `name` resolves, when that is not this distribution's own package."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    origin = spec.origin if spec is not None else None
    if origin is None or Path(origin).resolve().parent == HERE / name:
        return None
    return origin


def _helpers(fixture: str) -> ModuleType:
    """`contracts.mock`, imported on the first use of a fixture, or a failure that says why not."""
    for name in OUR_PACKAGES:
        found = _hidden_package(name)
        if found is not None:
            pytest.fail(HIDDEN.format(fixture=fixture, name=name, found=found), pytrace=False)
    try:
        return importlib.import_module(HELPERS)
    except ImportError as error:
        pytest.fail(NEEDS_EXTRA.format(fixture=fixture, error=error), pytrace=False)


def _options(request: pytest.FixtureRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker else {}
    faults = list(options.pop("faults", []))
    return options, faults


@pytest.fixture
def video_mock(request: pytest.FixtureRequest) -> Iterator[VideoMock]:
    """The fake in-process, with both providers' real hosts routed to it."""
    helpers = _helpers("video_mock")
    options, faults = _options(request)
    with helpers.in_process(options) as mock:
        for fault in faults:
            mock.add_fault(**fault)
        yield mock


@pytest.fixture
def video_mock_server(request: pytest.FixtureRequest) -> Iterator[VideoMockServer]:
    """The fake on a free loopback port; `.base_url` is where to point any client."""
    helpers = _helpers("video_mock_server")
    options, faults = _options(request)
    with helpers.VideoMockServer(helpers.plugin_settings(options)) as server:
        for fault in faults:
            server.add_fault(**fault)
        yield server
