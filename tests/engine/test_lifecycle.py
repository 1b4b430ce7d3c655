"""Engine lifecycle, pure: manual clock, no HTTP, against every store."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from mockserver.engine import (
    Engine,
    Failure,
    FaultFired,
    InsufficientCredits,
    NewTask,
    RateLimited,
    Task,
    TaskAlreadyFinished,
    TaskForbidden,
    TaskNotFound,
    TaskStatus,
    Timing,
    starting_state,
)
from mockserver.engine.faults import Fault, FaultRule
from mockserver.engine.ids import Ids
from mockserver.engine.tasks import CallbackPlan
from mockserver.store.base import Store

pytestmark = pytest.mark.anyio
START = 1_767_225_600.0


def make_id(ids: Ids, number: int, now: float) -> str:
    return f"t-{int(now)}-{ids.token('task', number, 6)}"


def engine(store: Store, **kwargs: Any) -> Engine:
    return Engine(store, starting_state("manual", 1.0, START), seed=3, **kwargs)


async def create(e: Engine, key: str = "k", **kwargs: Any) -> Task:
    values: dict[str, Any] = {
        "provider": "p",
        "model": "m",
        "duration": 5,
        "aspect_ratio": "16:9",
        "credits": 7 if kwargs.get("duration", 5) == 5 else 14,
        "make_id": make_id,
    }
    values.update(kwargs)
    task, _ = await e.create(e.gate("create", key, accepted=True), NewTask(**values))
    return task


async def test_task_moves_queued_running_succeeded_with_default_timing(store: Store) -> None:
    e = engine(store)
    task = await create(e)
    seen = []
    for _ in range(85):
        seen.append(e.observe(task).status)
        await e.advance(1)
    assert seen[0] is TaskStatus.QUEUED
    assert seen[2] is TaskStatus.RUNNING  # about 2 s queued
    assert seen[78] is TaskStatus.RUNNING and seen[79] is TaskStatus.SUCCEEDED  # 79 s in all
    assert seen == sorted(seen, key=list(TaskStatus).index)


async def test_progress_rises_monotonically_and_eta_falls_to_completion(store: Store) -> None:
    e = engine(store, timing=Timing(queue_seconds=2, run_seconds=77))
    task = await create(e)
    progress, remaining = [], []
    while not e.observe(task).status.finished:
        snap = e.observe(task)
        progress.append(snap.progress)
        remaining.append(snap.remaining)
        await e.advance(0.5)
    assert progress[0] == 0 and progress == sorted(progress) and max(progress) == 99
    assert remaining == sorted(remaining, reverse=True) and remaining[0] == 79
    final = e.observe(task)
    assert final.progress == 100 and final.remaining is None and final.ended_at == START + 79


async def test_planned_failure_ends_failed_with_its_code_at_the_natural_end(store: Store) -> None:
    e = engine(store)
    task = await create(e, plan=Failure("content_policy_violation"))
    await e.advance(78)
    assert e.observe(task).status is TaskStatus.RUNNING
    await e.advance(1)
    snap = e.observe(task)
    assert snap.status is TaskStatus.FAILED and snap.failure == Failure("content_policy_violation")
    assert snap.progress == 99  # frozen where it stopped: progress never falls


async def test_a_failure_at_start_ends_the_task_when_its_run_starts_and_fires_its_event(store: Store) -> None:
    e = engine(store)
    ended: list[float] = []

    async def listen(task: Task) -> None:
        ended.append(e.now())

    e.on_task_end(listen)
    unusable = Failure("image_processing_error", "no image", at_start=True)
    task = await create(e, plan=unusable, callback_url="https://hooks.example.com/a")
    await e.advance(1.9)
    assert e.observe(task).status is TaskStatus.QUEUED and e.observe(task).remaining == 78
    await e.advance(0.1)
    snap = e.observe(task)
    assert snap.status is TaskStatus.FAILED and snap.failure == unusable and snap.progress == 0
    assert snap.ended_at == START + 2 and task.ends_at == START + 2 and ended == [START + 2]


async def test_terminal_event_fires_once_per_task_in_time_order(store: Store) -> None:
    e = engine(store)
    ended: list[tuple[str, float]] = []

    async def listen(task: Task) -> None:
        ended.append((task.id, e.now()))

    e.on_task_end(listen)
    first = await create(e, callback_url="https://hooks.example.com/a")
    await e.advance(10)
    second = await create(e, callback_url="https://hooks.example.com/b")
    await e.end(second.id, TaskStatus.SUCCEEDED)
    quiet = await create(e)  # no callback: no timer, no event
    await e.advance(200)
    assert ended == [(second.id, START + 10), (first.id, START + 79)]
    assert quiet.id not in [task_id for task_id, _ in ended]


async def test_a_rule_that_does_not_block_rides_along_and_gives_the_task_its_plans(store: Store) -> None:
    e = engine(store)
    ended: list[tuple[str, float]] = []

    async def listen(task: Task) -> None:
        ended.append((task.id, e.now()))

    e.on_task_end(listen)
    plans = {"plan": Failure("x", after=5.0), "callback": CallbackPlan(copies=2)}
    await e.add_rule(FaultRule("", "create", 1, key="k", fault=Fault(delay=0.5), **plans))
    task, rule = await e.create(
        e.gate("create", "k", accepted=True),
        NewTask("p", "m", 5, "16:9", 7, make_id, callback_url="https://hooks.example.com/a"),
    )
    assert rule is not None and rule.fault == Fault(delay=0.5)
    assert task.plan == plans["plan"] and task.callback_plan == plans["callback"]
    assert await e.find(task.id) == task  # stored with its plans
    await e.advance(200)
    assert ended == [(task.id, START + 5)]  # once, at the planned failure (not the natural end)
    assert e.observe(task).status is TaskStatus.FAILED and await e.rules() == []


async def test_forgetting_a_key_leaves_every_other_key_as_it_was(store: Store) -> None:
    e = engine(store, rate_limit=5)
    mine, theirs = await create(e, key="k"), await create(e, key="other")
    await e.add_rule(FaultRule("", "get", 1, key="k", fault=Fault(503)))
    await e.add_rule(FaultRule("", "get", 1, key="other", fault=Fault(503)))
    assert await e.forget("k") == 1
    with pytest.raises(TaskNotFound):
        await e.find(mine.id)
    assert await e.find(theirs.id) == theirs
    assert [rule.key for rule in await e.rules()] == ["other"]
    for _ in range(5):  # k's rate-limit window is new
        await e.admit(e.gate("get", "k", accepted=True))


async def test_forced_ends_show_at_once_and_a_finished_task_refuses_another(store: Store) -> None:
    e = engine(store)
    task = await create(e)
    await e.advance(30)
    await e.end(task.id, TaskStatus.FAILED, Failure("request_cancelled"))
    snap = e.observe(await e.find(task.id))
    assert snap.status is TaskStatus.FAILED and snap.failure == Failure("request_cancelled")
    assert snap.progress == 36 and snap.ended_at == START + 30
    with pytest.raises(TaskAlreadyFinished):
        await e.end(task.id, TaskStatus.SUCCEEDED)


async def test_tasks_belong_to_the_key_that_created_them(store: Store) -> None:
    e = engine(store)
    task = await create(e, key="alice")
    assert await e.get(e.gate("get", "alice", True), task.id) == (task, None)
    with pytest.raises(TaskForbidden):
        await e.get(e.gate("get", "bob", True), task.id)
    with pytest.raises(TaskNotFound):
        await e.get(e.gate("get", "alice", True), "missing")


async def test_tasks_expire_after_retention_results_after_ttl_and_are_then_pruned(store: Store) -> None:
    e = engine(store, timing=Timing(result_ttl=100, retention=1000))
    task = await create(e)
    await e.advance(79)
    assert await e.media_task(task.media_token) == task
    await e.advance(99.9)
    assert await e.media_task(task.media_token) == task
    await e.advance(0.1)
    assert await e.media_task(task.media_token) is None
    await e.advance(900)
    with pytest.raises(TaskNotFound):
        await e.find(task.id)
    assert await e.count_tasks() == 1 and await e.prune() == 1
    assert await e.count_tasks() == 0 and await e.tasks() == ([], None)


async def test_credits_are_charged_by_the_task_and_refused_when_short(store: Store) -> None:
    e = engine(store, credits=20)
    await create(e, duration=10)
    assert await e.balance("k", "p") == 6
    with pytest.raises(InsufficientCredits):
        await create(e, duration=5)
    assert await e.balance("other", "p") == 20  # per key
    assert await e.balance("k", "q") == 20  # per provider
    assert await e.balance("k", "p") == 6  # a refusal charges nothing
    assert await e.count_tasks() == 1


async def test_balances_can_differ_by_provider_and_a_provider_not_named_is_unlimited(store: Store) -> None:
    e = engine(store, credits={"p": 7})
    await create(e, duration=5)
    with pytest.raises(InsufficientCredits):
        await create(e, duration=5)
    await create(e, provider="q", duration=10)
    assert await e.balance("k", "p") == 0 and await e.balance("k", "q") is None


async def test_fault_rules_fire_for_their_operation_and_key_then_run_out(store: Store) -> None:
    e = engine(store)
    await e.add_rule(FaultRule("", "create", 2, key="alice", fault=Fault(503)))
    await create(e, key="bob")
    for _ in range(2):
        with pytest.raises(FaultFired) as fired:
            await create(e, key="alice")
        assert fired.value.rule.fault == Fault(503)
    await create(e, key="alice")
    assert await e.rules() == [] and await e.count_tasks() == 2  # a fault creates nothing


async def test_the_rate_limit_counts_accepted_requests_per_key_in_fake_time_windows(store: Store) -> None:
    e = engine(store, rate_limit=2)
    await create(e, key="k")
    await e.advance(10)
    await create(e, key="k")
    with pytest.raises(RateLimited) as limited:
        await create(e, key="k")
    assert limited.value.wait == 50  # the window started at :00 and it is :10
    await create(e, key="other")
    await e.advance(50)
    await create(e, key="k")


async def test_same_seed_gives_same_ids_and_reset_replays_them(new_store: Callable[[], Store]) -> None:
    async def ids(e: Engine) -> list[str]:
        return [(await create(e)).id for _ in range(3)]

    a = engine(new_store())
    first = await ids(a)
    assert first == await ids(engine(new_store()))
    await a.advance(5)
    await a.reset()
    assert await ids(a) == first and a.now() == START
    other = Engine(new_store(), starting_state("manual", 1.0, START), seed=4)
    assert await ids(other) != first
