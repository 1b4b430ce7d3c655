"""Engine lifecycle, pure: manual clock, no HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.engine import (
    Engine,
    Failure,
    InsufficientCredits,
    ManualClock,
    Task,
    TaskAlreadyFinished,
    TaskForbidden,
    TaskNotFound,
    TaskStatus,
    Timing,
)
from mockserver.engine.ids import IdFactory

START = 1_767_225_600.0


def make_id(ids: IdFactory, now: float) -> str:
    return f"t-{int(now)}-{ids.token('task', 6)}"


def engine(**kwargs: Any) -> Engine:
    return Engine(ManualClock(START), seed=3, **kwargs)


def create(e: Engine, key: str = "k", **kwargs: Any) -> Task:
    values: dict[str, Any] = {
        "provider": "p",
        "key": key,
        "model": "m",
        "duration": 5,
        "aspect_ratio": "16:9",
        "make_id": make_id,
    }
    values.update(kwargs)
    return e.create(**values)


def test_task_moves_queued_running_succeeded_with_default_timing() -> None:
    e = engine()
    task = create(e)
    seen = []
    for _ in range(85):
        seen.append(e.observe(task).status)
        e.advance(1)
    assert seen[0] is TaskStatus.QUEUED
    assert seen[2] is TaskStatus.RUNNING  # D13: about 2 s queued
    assert seen[78] is TaskStatus.RUNNING and seen[79] is TaskStatus.SUCCEEDED  # 79 s in all
    assert seen == sorted(seen, key=list(TaskStatus).index)


def test_progress_rises_monotonically_and_eta_falls_to_completion() -> None:
    e = engine(timing=Timing(queue_seconds=2, run_seconds=77))
    task = create(e)
    progress, remaining = [], []
    while not e.observe(task).status.finished:
        snap = e.observe(task)
        progress.append(snap.progress)
        remaining.append(snap.remaining)
        e.advance(0.5)
    assert progress[0] == 0 and progress == sorted(progress) and max(progress) == 99
    assert remaining == sorted(remaining, reverse=True) and remaining[0] == 79
    final = e.observe(task)
    assert final.progress == 100 and final.remaining is None and final.ended_at == START + 79


def test_planned_failure_ends_failed_with_its_code_at_the_natural_end() -> None:
    e = engine()
    task = create(e, failure=Failure("content_policy_violation"))
    e.advance(78)
    assert e.observe(task).status is TaskStatus.RUNNING
    e.advance(1)
    snap = e.observe(task)
    assert snap.status is TaskStatus.FAILED and snap.failure == Failure("content_policy_violation")
    assert snap.progress == 99  # frozen where it stopped: progress never falls


def test_terminal_event_fires_once_per_task_in_time_order() -> None:
    e = engine()
    ended: list[tuple[str, float]] = []
    e.on_task_end(lambda t: ended.append((t.id, e.clock.now())))
    first = create(e)
    e.advance(10)
    second = create(e)
    e.complete(second.id)
    e.advance(200)
    assert ended == [(second.id, START + 10), (first.id, START + 79)]


def test_cancel_ends_failed_request_cancelled_and_refuses_a_finished_task() -> None:
    e = engine()
    task = create(e)
    e.advance(30)
    e.cancel(task.id)
    snap = e.observe(task)
    assert snap.status is TaskStatus.FAILED and snap.failure == Failure("request_cancelled")
    assert snap.progress == 36 and snap.ended_at == START + 30
    with pytest.raises(TaskAlreadyFinished):
        e.complete(task.id)


def test_tasks_belong_to_the_key_that_created_them() -> None:
    e = engine()
    task = create(e, key="alice")
    assert e.get(task.id, key="alice") is task
    with pytest.raises(TaskForbidden):
        e.get(task.id, key="bob")
    with pytest.raises(TaskNotFound):
        e.get("missing", key="alice")


def test_tasks_expire_after_retention_and_results_after_ttl() -> None:
    e = engine(timing=Timing(result_ttl=100, retention=1000))
    task = create(e)
    e.advance(79)
    assert e.media_task(task.media_token) is task
    e.advance(99.9)
    assert e.media_task(task.media_token) is task
    e.advance(0.1)
    assert e.media_task(task.media_token) is None
    e.advance(900)
    with pytest.raises(TaskNotFound):
        e.find(task.id)


def test_credits_are_charged_by_duration_and_refused_when_short() -> None:
    e = engine(credits=20)
    create(e, duration=10)
    assert e.balance("k") == 6
    with pytest.raises(InsufficientCredits):
        create(e, duration=5)
    assert e.balance("other") == 20  # per key
    assert e.balance("k") == 6  # a refusal charges nothing


def test_same_seed_gives_same_ids_and_reset_replays_them() -> None:
    def ids(e: Engine) -> list[str]:
        return [create(e).id for _ in range(3)]

    a, b = engine(), engine()
    first = ids(a)
    assert first == ids(b)
    a.advance(5)
    a.reset()
    assert ids(a) == first
    assert ids(Engine(ManualClock(START), seed=4)) != first
