"""`video_mock` itself: its clock methods call the fake directly and agree with the control
plane, each fixture gets fresh state on the one loop thread all fixtures share, and a fixture
that ends stops its fake."""

from __future__ import annotations

import sys
import threading

import httpx
import pytest

from contracts.mock import VideoMock, video_mock
from contracts.routing import installed
from tests.plugin.apps import HttpxApp
from tests.plugin.conftest import Lookups


def test_now_and_advance_agree_with_the_control_plane(video_mock: VideoMock) -> None:
    start = video_mock.now()
    assert video_mock.advance(12.5) == start + 12.5
    assert video_mock.http.get("/__mock/clock").json()["now"] == video_mock.now() == start + 12.5


@pytest.mark.parametrize(("seconds", "rule"), [(-1, "minimum"), ("5", "type"), (1e12, "maximum")])
def test_advance_refuses_what_the_control_plane_refuses(
    seconds: object, rule: str, video_mock: VideoMock
) -> None:
    with pytest.raises(AssertionError, match=rule):
        video_mock.advance(seconds)  # type: ignore[arg-type]
    assert video_mock.http.post("/__mock/clock/advance", json={"seconds": seconds}).status_code == 400


def test_each_fixture_has_fresh_state_on_one_shared_loop_thread() -> None:
    threads = threading.active_count()
    ended = []
    for _ in range(3):
        with video_mock() as mock:
            assert mock.tasks() == []
            HttpxApp().create("A cat", "https://example.com/c.jpg")
            assert len(mock.tasks()) == 1
            fake = mock.state
        ended.append(fake)
    assert all(fake.runtime.serving is None for fake in ended)  # each fake stopped at its end
    assert threading.active_count() <= max(threads, 2) + 1  # the shared loop thread at most


def test_requests_after_the_fixture_are_not_routed(lookups: Lookups) -> None:
    with video_mock():
        pass
    with pytest.raises(httpx.ConnectError, match="refuses to look up"):  # httpx's own transport again
        httpx.get("https://api.evolink.ai/v1/tasks/x")
    assert lookups.hosts == ["api.evolink.ai"]  # looked up by the real transport (this test's spy refused)


def test_a_library_that_is_not_installed_is_not_routed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aiohttp", None)  # as if not installed: importing it fails
    assert [route.library for route in installed()] == ["httpx", "urllib3", "urllib.request"]
    with video_mock() as mock:
        HttpxApp().create("A cat", "https://example.com/c.jpg")
        assert len(mock.tasks()) == 1
