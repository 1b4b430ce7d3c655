"""Each HTTP library a user's app may call EvoLink with reaches `video_mock` at the real base
URL: a task created and polled to the end, its video fetched, the journal and the verdicts as
over httpx; each connection fault raises what that library raises against the fake on a real
socket (the same fault on `video_mock_server`, in the same test)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from contracts.mock import VideoMock, VideoMockServer
from tests.plugin.apps import APPS, ASYNC_APPS, EVOLINK, KEY, AsyncHttpxApp, RequestsApp, Urllib3App, call

IMAGE = "https://example.com/cat.jpg"
FAULTS = ("reset", "lost", "truncate")


def generate(app: Any, video_mock: VideoMock) -> dict[str, Any]:
    """What the user's app does: create, then poll every 10 s (fake time) until the task ends."""
    task = call(app.create, "A cat", IMAGE)
    while task["status"] not in ("completed", "failed"):
        video_mock.advance(10)
        task = call(app.task, task["id"])
    return dict(task)


def raised(app: Any, *args: Any) -> str:
    """The exception `app.create(*args)` raised, as its type and message."""
    with pytest.raises(Exception) as caught:
        call(app.create, *args)
    return f"{type(caught.value).__module__}.{type(caught.value).__qualname__}: {caught.value}"


@pytest.mark.parametrize("library", APPS)
def test_each_library_creates_and_polls_to_the_end_at_the_real_base_url(
    library: str, video_mock: VideoMock
) -> None:
    app = APPS[library]()
    task = generate(app, video_mock)
    assert task["status"] == "completed"
    url = task["results"][0]
    assert url.startswith(f"{EVOLINK}/files/")
    assert call(app.video, url)[4:8] == b"ftyp"  # an MP4
    operations = [entry["operation"] for entry in video_mock.requests()]
    assert operations[0] == "createVideoGeneration" and operations[-1] == "getResultVideo"
    assert set(operations[1:-1]) == {"getTaskDetail"} and len(operations) > 3
    assert video_mock.requests()[0]["key"] == video_mock.requests(key=KEY)[0]["key"]
    assert video_mock.tasks()[0]["status"] == "succeeded"
    video_mock.assert_well_behaved(min_poll_interval=5)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("library", APPS)
def test_each_library_meets_a_connection_fault_as_on_a_real_socket(
    library: str, fault: str, video_mock: VideoMock, video_mock_server: VideoMockServer
) -> None:
    video_mock.add_fault("createVideoGeneration", fault=fault)
    video_mock_server.add_fault("createVideoGeneration", fault=fault)
    in_process = raised(APPS[library](), "A cat", IMAGE)
    on_a_socket = raised(APPS[library](base=video_mock_server.base_url), "A cat", IMAGE)
    port = re.escape(video_mock_server.base_url.removeprefix("http://"))
    assert in_process == re.sub(port, "api.evolink.ai", on_a_socket)
    [entry], [on_the_server] = video_mock.requests(), video_mock_server.requests()
    assert (entry["fault"], entry["status"]) == (fault, on_the_server["status"])


@pytest.mark.parametrize("library", APPS)
def test_a_delay_past_the_clients_read_timeout_times_out_as_on_a_real_socket(
    library: str, video_mock: VideoMock, video_mock_server: VideoMockServer
) -> None:
    for fake in (video_mock, video_mock_server):
        fake.add_fault("createVideoGeneration", fault="delay=0.5")
    in_process = raised(APPS[library](timeout=0.1), "A cat", IMAGE)
    on_a_socket = raised(APPS[library](base=video_mock_server.base_url, timeout=0.1), "A cat", IMAGE)
    assert in_process.split(":")[0] == on_a_socket.split(":")[0]  # messages name the address


@pytest.mark.anyio
@pytest.mark.parametrize("library", ASYNC_APPS)
async def test_async_libraries_reach_the_fake_from_the_tests_own_event_loop(
    library: str, video_mock: VideoMock
) -> None:
    app = ASYNC_APPS[library]()
    task = await app.create("A cat", IMAGE)
    video_mock.advance(80)
    done = await app.task(task["id"])
    assert done["status"] == "completed"
    assert (await app.video(done["results"][0]))[4:8] == b"ftyp"


@pytest.mark.video_mock(hosts=["videos.example-gateway.com"], keys=["k1"], credits=7)
def test_the_marker_routes_more_hosts_and_configures_the_fake(video_mock: VideoMock) -> None:
    gateway = RequestsApp(base="https://videos.example-gateway.com")
    with pytest.raises(Exception, match="401"):
        gateway.create("A cat", IMAGE)  # KEY is not one of the marker's keys
    assert video_mock.requests()[0]["status"] == 401


def test_the_reference_clients_async_route_works_from_any_loop(video_mock: VideoMock) -> None:
    app = AsyncHttpxApp()
    for _ in range(2):  # two loops in turn (asyncio.run each), the fake on its own
        assert call(app.create, "A cat", IMAGE)["status"] == "pending"
    assert len(video_mock.tasks()) == 2


def test_urllib3_retries_a_get_that_meets_a_reset_as_against_a_server(video_mock: VideoMock) -> None:
    app = Urllib3App()
    task = app.create("A cat", IMAGE)
    video_mock.add_fault("getTaskDetail", fault="reset")
    assert app.task(task["id"])["status"] == "pending"  # urllib3's own retry, on a new connection
    assert [(e["operation"], e["fault"]) for e in video_mock.requests(operation="getTaskDetail")] == [
        ("getTaskDetail", "reset"),
        ("getTaskDetail", None),
    ]
