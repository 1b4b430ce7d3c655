"""Fixtures for the upstream tests: every upstream is on loopback (another fake, or the drifting
one), every server stops by itself."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mockserver import Settings, create_app
from tests.helpers import live_server, make_settings
from tests.upstream.drifting import Drifting
from tests.upstream.servers import Receiver, loopback_socket, serving

SPEED = 40.0  # the fake upstreams' speed: a whole lifecycle (2 s + 77 s) in about 2 s


def proxy_settings(**overrides: Any) -> Settings:
    """A proxy's settings: its lifecycle profile at the upstream fakes' speed, local receivers
    allowed (the tests' receivers are on loopback)."""
    values: dict[str, Any] = {"clock": "real", "speed": SPEED, "allow_callback_hosts": ("127.0.0.1",)}
    return make_settings(**(values | overrides))


@pytest.fixture
def upstream_fake() -> Iterator[str]:
    """Another fake as the upstream, at SPEED, calling back to loopback."""
    app = create_app(make_settings(clock="real", speed=SPEED, seed=7, allow_callback_hosts=("127.0.0.1",)))
    with live_server(app) as base:
        yield base


@pytest.fixture
def drifting() -> Iterator[tuple[Drifting, str]]:
    upstream = Drifting()
    with serving(upstream.app(), loopback_socket()) as base:
        yield upstream, base


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    got = Receiver()
    with serving(got.app(), loopback_socket()) as base:
        yield got, base
