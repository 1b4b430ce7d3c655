"""Sync and async clients of both providers: create -> wait -> download against the fake,
in-process (no socket) and on a loopback port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from client import (
    AimlapiClient,
    AsyncAimlapiClient,
    AsyncEvolinkClient,
    EvolinkClient,
    PollSettings,
    Status,
    SyncClient,
    TaskFailedError,
    VideoTask,
)
from mockserver.transport import SyncASGITransport
from tests.helpers import KEY, VirtualTime, live_server, make_app, state_of
from tests.media import probe

IMAGE = "https://example.com/first.jpg"
FAST = PollSettings(interval=0.02, min_interval=0.01)
SYNC = {"evolink": EvolinkClient, "aimlapi": AimlapiClient}
ASYNC = {"evolink": AsyncEvolinkClient, "aimlapi": AsyncAimlapiClient}


def in_process(app: Any) -> dict[str, Any]:
    """Client sleeps move the fake's manual clock, and the deadline reads it: waits are instant."""
    transport = SyncASGITransport(app)
    time = VirtualTime(app, transport)
    return {"transport": transport, "sleep": time.sleep, "monotonic": time.now}


CREDITS_FOR_10_S = {"evolink": 14, "aimlapi": 2_240_000}  # $0.112/s x 10 s x 2,000,000


@pytest.mark.parametrize("provider", ["evolink", "aimlapi"])
def test_sync_client_runs_create_wait_download_in_process(provider: str, tmp_path: Path) -> None:
    app = make_app()
    seen: list[VideoTask] = []
    with SYNC[provider](KEY, base_url="http://fake.test", **in_process(app)) as videos:
        task = videos.create("A cat walking", IMAGE, duration=10)
        # each provider's own unit: EvoLink credits, or the AI/ML API's 2,000,000 per USD
        assert task.status is Status.QUEUED and task.credits == CREDITS_FOR_10_S[provider]
        done = videos.wait(task, on_progress=seen.append)
        path = videos.download(done, tmp_path / "out.mp4")
    assert done.status is Status.SUCCEEDED and done.video_url
    assert probe(path.read_bytes()).duration == pytest.approx(10, abs=0.1)
    assert seen[-1] == done
    statuses = [t.status for t in seen]
    assert statuses == sorted(statuses, key=list(Status).index)
    assert not (tmp_path / "out.mp4.part").exists()


@pytest.mark.anyio
@pytest.mark.parametrize("provider", ["evolink", "aimlapi"])
async def test_async_client_runs_generate_and_download_in_process(provider: str, tmp_path: Path) -> None:
    app = make_app()
    fake = state_of(app)
    async with ASYNC[provider](
        KEY,
        base_url="http://fake.test",
        transport=httpx.ASGITransport(app=app),
        sleep=fake.runtime.advance,
        monotonic=fake.engine.now,
    ) as videos:
        task = await videos.generate("A cat walking", IMAGE)
        path = await videos.download(task, tmp_path / "out.mp4")
    assert task.status is Status.SUCCEEDED
    assert probe(path.read_bytes()).aspect_ratio == "16:9"


@pytest.mark.parametrize("provider", ["evolink", "aimlapi"])
def test_sync_client_against_the_fake_on_a_loopback_port(provider: str, tmp_path: Path) -> None:
    with (
        live_server(make_app(clock="real", speed=500)) as base,
        SYNC[provider](KEY, base_url=base, poll=FAST) as v,
    ):
        task = v.generate("A cat walking", IMAGE, timeout=30)
        path = v.download(task, tmp_path / "video.mp4")
    assert task.status is Status.SUCCEEDED and probe(path.read_bytes()).frames > 0


@pytest.mark.anyio
@pytest.mark.parametrize("provider", ["evolink", "aimlapi"])
async def test_async_client_against_the_fake_on_a_loopback_port(provider: str, tmp_path: Path) -> None:
    with live_server(make_app(clock="real", speed=500)) as base:
        async with ASYNC[provider](KEY, base_url=base, poll=FAST) as videos:
            task = await videos.generate("A cat walking", IMAGE, timeout=30)
            path = await videos.download(task, tmp_path / "video.mp4")
    assert task.status is Status.SUCCEEDED and path.stat().st_size > 1000


def test_evolink_client_uses_the_eta_to_poll_sooner_and_backs_off_while_queued() -> None:
    app = make_app(queue_seconds=20)
    sleeps: list[float] = []
    options = in_process(app)
    advance = options["sleep"]

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        advance(seconds)

    with EvolinkClient(KEY, base_url="http://fake.test", **{**options, "sleep": sleep}) as videos:
        videos.generate("A cat walking", IMAGE)
    assert sleeps[:3] == [10, 15, 10]  # 10 s, 1.5x while still queued, back to 10 s once running
    assert sleeps[-1] == 2  # the last wait is cut to the ETA (97 s in all)


def test_a_failed_task_raises_task_failed_error_with_the_business_code() -> None:
    app = make_app()
    with EvolinkClient(KEY, base_url="http://fake.test", **in_process(app)) as videos:
        with pytest.raises(TaskFailedError) as caught:
            videos.generate("A cat [mock:fail=content_policy_violation]", IMAGE)
        task = videos.wait(caught.value.task, raise_on_failure=False)
    assert caught.value.code == "content_policy_violation" and "safety" in str(caught.value.message)
    assert task.status is Status.FAILED


def test_clients_share_one_base_type() -> None:
    assert issubclass(EvolinkClient, SyncClient) and issubclass(AimlapiClient, SyncClient)
