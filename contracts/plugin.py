"""pytest plugin (registered under `pytest11`): the fake as fixtures.

- `video_mock`: the fake in-process; requests to api.aimlapi.com, api.evolink.ai and
  ai.odkkk.com (sync or async httpx, the reference client included) are answered by it.
- `video_mock_server`: the fake on a free 127.0.0.1 port (`.base_url`), for any client.

Both give the control plane from Python: `.advance(s)`, `.tasks()`, `.requests()`,
`.add_fault(...)`, `.complete(id)`, `.callbacks()`, ... Configure with the marker
`@pytest.mark.video_mock(seed=1, clock="real", speed=100, keys=[...], credits=14,
faults=[{"operation": "getTaskDetail", "status": 503}])` (any Settings field).

Contracts layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from contracts.mock import VideoMock, VideoMockServer, plugin_settings

MARKER = "video_mock"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**settings): configure the video_mock fixtures (seed, clock, speed, keys, credits, "
        "rate_limit, evolink_errors, faults=[{operation, status, count, key}], ...)",
    )


def _options(request: pytest.FixtureRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    marker = request.node.get_closest_marker(MARKER)
    options = dict(marker.kwargs) if marker else {}
    faults = list(options.pop("faults", []))
    return options, faults


@pytest.fixture
def video_mock(request: pytest.FixtureRequest) -> Iterator[VideoMock]:
    """The fake in-process, with both providers' real hosts routed to it."""
    options, faults = _options(request)
    with VideoMock(plugin_settings(options)) as mock:
        for fault in faults:
            mock.add_fault(**fault)
        yield mock


@pytest.fixture
def video_mock_server(request: pytest.FixtureRequest) -> Iterator[VideoMockServer]:
    """The fake on a free loopback port; `.base_url` is where to point any client."""
    options, faults = _options(request)
    with VideoMockServer(plugin_settings(options)) as server:
        for fault in faults:
            server.add_fault(**fault)
        yield server
