"""The reference client against injected faults on a real socket, where it has a policy: a
create is never retried once sent (a `lost` answer raises, and the journal shows one create);
reads retry after a `reset` or a `truncate`; a `delay` longer than its timeout is a timeout.
Then the fake's verdicts: the reference client passes its own, through a burst of faults."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from client import APIConnectionError, APITimeoutError, EvolinkClient, RetryPolicy, Status
from contracts.mock import MockControl
from tests.helpers import KEY, live_server, make_app

IMAGE = "https://example.com/first.jpg"
CREATE, RETRIEVE = "createVideoGeneration", "getTaskDetail"


class Fake:
    """The fake on a loopback port with a manual clock the client's sleeps move."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.control = MockControl(httpx.Client(base_url=base, timeout=10))

    def client(self, **options: Any) -> EvolinkClient:
        return EvolinkClient(
            KEY, base_url=self.base, sleep=self.control.advance, monotonic=self.control.now, **options
        )

    def arm(self, operation: str, fault: str, count: int = 1, **extra: Any) -> None:
        self.control.add_fault(operation, fault=fault, count=count, **extra)

    def journal(self, operation: str) -> list[tuple[int | None, str | None]]:
        return [(e["status"], e["fault"]) for e in self.control.requests(operation=operation)]


@pytest.fixture
def fake() -> Iterator[Fake]:
    with live_server(make_app()) as base:
        fake = Fake(base)
        yield fake
        fake.control.http.close()


def test_a_lost_create_is_not_sent_again_though_the_task_exists(fake: Fake) -> None:
    fake.arm(CREATE, "lost")
    with fake.client() as videos, pytest.raises(APIConnectionError):
        videos.create("A cat walking", IMAGE)
    assert fake.journal(CREATE) == [(None, "lost")]
    assert len(fake.control.tasks()) == 1  # made and billed: retrying would make a second


def test_a_truncated_create_is_not_sent_again_either(fake: Fake) -> None:
    fake.arm(CREATE, "truncate")
    with fake.client() as videos, pytest.raises(APIConnectionError):
        videos.create("A cat walking", IMAGE)
    assert fake.journal(CREATE) == [(200, "truncate")]


@pytest.mark.parametrize("fault", ["reset", "truncate"])
def test_reads_retry_after_a_dropped_connection(fake: Fake, fault: str) -> None:
    with fake.client() as videos:
        task = videos.create("A cat walking", IMAGE)
        fake.arm(RETRIEVE, fault, count=2)
        again = videos.get(task)
    assert again.id == task.id and again.status is Status.QUEUED
    assert fake.journal(RETRIEVE) == [(None if fault == "reset" else 200, fault)] * 2 + [(200, None)]


def test_a_delay_longer_than_the_timeout_is_a_timeout_and_a_create_is_not_sent_again(fake: Fake) -> None:
    fake.arm(CREATE, "delay=2")
    with fake.client(timeout=0.3) as videos, pytest.raises(APITimeoutError):
        videos.create("A cat walking", IMAGE)
    assert fake.journal(CREATE) == [(200, "delay=2")]


def test_a_read_that_times_out_is_retried_then_a_timeout(fake: Fake) -> None:
    with fake.client(timeout=0.3, retry=RetryPolicy(max_retries=1)) as videos:
        task = videos.create("A cat walking", IMAGE)
        fake.arm(RETRIEVE, "delay=1", count=5)
        with pytest.raises(APITimeoutError):
            videos.get(task)
    assert fake.journal(RETRIEVE) == [(200, "delay=1")] * 2


def test_the_reference_client_passes_its_own_verdicts_through_a_burst_of_faults(
    fake: Fake, tmp_path: Path
) -> None:
    fake.arm(CREATE, "429", retry_after=3)
    fake.arm(RETRIEVE, "503", retry_after=5)
    fake.arm(RETRIEVE, "reset")
    fake.arm(RETRIEVE, "truncate")
    with fake.client() as videos:
        done = videos.generate("A cat walking", IMAGE)
        videos.download(done, tmp_path / "cat.mp4")
        fake.arm(CREATE, "lost")
        with pytest.raises(APIConnectionError):
            videos.create("A dog running", IMAGE)
    assert done.status is Status.SUCCEEDED
    faults = [e["fault"] for e in fake.control.requests(key=KEY)]
    assert {"429", "503", "reset", "truncate", "lost"} <= set(faults)
    fake.control.assert_well_behaved(key=KEY)
    report = fake.control.verdicts(key=KEY)
    assert report["passed"] and report["requests"] == len(faults)
    assert fake.control.requests(provider="files")[0]["key"] is None  # the download sent no key
