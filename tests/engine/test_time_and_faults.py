"""Clocks, timers, fault rules, the rate limit and ids, pure."""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mockserver.engine import Engine, starting_state
from mockserver.engine.clock import Clock
from mockserver.engine.faults import (
    Fault,
    FaultRule,
    FaultSyntax,
    chance,
    parse_callback,
    parse_fault,
    parse_plan,
    parse_status,
    take,
)
from mockserver.engine.ids import Ids, fingerprint
from mockserver.engine.limits import Window, hit
from mockserver.engine.tasks import CallbackPlan, Failure, Snapshot, Task, TaskStatus
from mockserver.engine.timers import Timer
from mockserver.store.base import Store

pytestmark = pytest.mark.anyio


def test_a_manual_clock_stands_still_and_moves_only_forward() -> None:
    state = starting_state("manual", 1.0, 100.0)
    clock = Clock(state)
    assert clock.now() == 100 and clock.real_seconds(10) is None
    clock.set(state.moved_to(105, time.time()))
    clock.set(clock.state.moved_to(50, time.time()))
    assert clock.now() == 105 and clock.state.version == 2


def test_a_scaled_real_clock_runs_speed_times_faster_and_can_jump() -> None:
    clock = Clock(starting_state("real", 100.0, 0.0))
    start, started = clock.now(), time.monotonic()
    time.sleep(0.05)
    elapsed, real = clock.now() - start, time.monotonic() - started
    assert elapsed == pytest.approx(real * 100, rel=0.2, abs=0.5)  # 100x the real time that passed
    clock.set(clock.state.moved_to(clock.now() + 1000, time.time()))
    assert clock.now() - start >= 1000
    assert clock.real_seconds(50) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        starting_state("real", 0, 0)


async def test_timers_run_in_time_order_at_the_time_they_were_due(store: Store) -> None:
    engine = Engine(store, starting_state("manual", 1.0, 0.0), seed=1)
    seen: list[tuple[str, float]] = []

    async def handler(timer: Timer) -> None:
        seen.append((timer.subject, engine.now()))
        if timer.subject == "a":
            await engine.schedule(Timer(engine.now() + 1, "test", "a+1"))

    engine.on_timer("test", handler)
    await engine.schedule(Timer(5, "test", "a"), Timer(3, "test", "b"))
    await engine.advance(60)
    assert seen == [("b", 3), ("a", 5), ("a+1", 6)] and engine.now() == 60
    assert await engine.next_due() is None


async def test_advance_settles_before_each_step(store: Store) -> None:
    engine = Engine(store, starting_state("manual", 1.0, 0.0), seed=1)
    settled: list[float] = []

    async def settle() -> None:
        settled.append(engine.now())

    await engine.schedule(Timer(2, "test", "x"))
    engine.on_timer("test", lambda timer: settle())
    await engine.advance(10, settle=settle)
    assert settled == [0, 2, 2, 10]


def test_a_rule_matches_its_operation_and_key_and_spends_one_use() -> None:
    alice = FaultRule("f1", "get", 2, key="alice", fault=Fault(503))
    anyone = FaultRule("f2", "get", 1, fault=Fault(500))
    assert take([alice, anyone], "create", "alice", seed=0) == (None, [alice, anyone])
    fired, rest = take([alice, anyone], "get", "alice", seed=0)
    assert fired == replace(alice, matched=1) and rest == [replace(alice, remaining=1, matched=1), anyone]
    fired, rest = take(rest, "get", "bob", seed=0)
    assert fired == replace(anyone, matched=1) and rest == [replace(alice, remaining=1, matched=1)]


def test_a_rule_with_a_probability_fires_by_draws_from_the_seed() -> None:
    rule = FaultRule("f1", None, 1000, fault=Fault(503), probability=0.3)

    def run(seed: int) -> list[bool]:
        rules, fired = [rule], []
        for _ in range(200):
            hit, rules = take(rules, "get", None, seed)
            fired.append(hit is not None)
        assert rules[0].matched == 200 and rules[0].remaining == 1000 - sum(fired)
        return fired

    assert run(1) == run(1) and run(1) != run(2)
    assert 40 <= sum(run(1)) <= 80  # about 30 %
    assert [chance(5, "f1", n) for n in range(3)] == [chance(5, "f1", n) for n in range(3)]
    assert all(0 <= chance(seed, "f1", 0) < 1 for seed in range(50))


@pytest.mark.parametrize(
    ("raw", "fault"),
    [
        ("503", Fault(503)),
        (" 503 ", Fault(503)),
        ("delay=1.5", Fault(delay=1.5)),
        ("reset", Fault(drop="reset")),
        ("lost", Fault(drop="lost")),
        ("truncate", Fault(drop="truncate")),
        ("503;delay=1", Fault(503, 1.0)),
        ("delay=2;truncate", Fault(delay=2.0, drop="truncate")),
        ("429;truncate", Fault(429, drop="truncate")),
        ("delay=0.25;lost", Fault(delay=0.25, drop="lost")),
    ],
)
def test_the_fault_grammar_reads_each_kind_and_combination(raw: str, fault: Fault) -> None:
    assert parse_fault(raw) == fault
    assert parse_fault(str(fault)) == fault  # what the journal and rule views show reads back


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ";",
        "teapot",
        "5o3",
        "503;504",
        "delay=",
        "delay=-1",
        "delay=1e3",
        "delay=61",
        "503;reset",
        "lost;503",
        "reset;lost",
        "²⁰³",
        "delay=inf",
        "delay=nan",
    ],
)
def test_anything_else_is_refused_with_what_is_expected(raw: str) -> None:
    with pytest.raises(FaultSyntax):
        parse_fault(raw, max_delay=60)


def test_failures_and_callback_plans_have_their_own_small_grammars() -> None:
    assert parse_plan("service_error") == Failure("service_error")
    assert parse_plan("service_error;after=0") == Failure("service_error", after=0.0)
    assert parse_plan(" x ; after=12.5 ") == Failure("x", after=12.5)
    assert parse_callback("drop") == CallbackPlan(drop=True)
    assert parse_callback("duplicate;delay=30") == CallbackPlan(copies=2, delay=30.0)
    for bad in ("", ";after=1", "x;after=soon", "x;delay=1"):
        with pytest.raises(FaultSyntax):
            parse_plan(bad)
    for bad in ("twice", "drop;duplicate", "drop;delay=1", "delay=-1"):
        with pytest.raises(FaultSyntax):
            parse_callback(bad)


def test_a_planned_failure_after_seconds_moves_the_end_and_shows_the_progress_then() -> None:
    task = Task(
        id="t", number=1, provider="p", owner="o", model="m", created_at=100.0, queue_seconds=2.0,
        run_seconds=77.0, duration=5, aspect_ratio="16:9", credits=7, media_token="m",
        plan=Failure("x", after=0.0),
    )  # fmt: skip
    at_once = task.observe(100.0)
    assert task.planned_end == 100.0 and at_once.status is TaskStatus.FAILED and at_once.progress == 0
    later = task._replace(plan=Failure("x", after=41.0))
    assert later.planned_end == 141.0 and later.observe(140.9).status is TaskStatus.RUNNING
    assert 0 < later.observe(141.0).progress < 99
    never = task._replace(plan=Failure("x", after=10_000.0))
    assert never.planned_end == task.natural_end == 179.0


@pytest.mark.parametrize(
    ("raw", "status"), [("503", 503), (" 429 ", 429), ("²", None), ("٤٠٣", None), ("5033", None), ("", None)]
)
def test_a_status_trigger_is_three_ascii_digits(raw: str, status: int | None) -> None:
    assert parse_status(raw) == status


def test_the_rate_limit_allows_n_per_window_then_says_how_long_to_wait() -> None:
    window, wait = hit(None, 60.0, 2)
    window, wait = hit(window, 70.0, 2)
    assert window == Window(60.0, 2) and wait is None
    assert hit(window, 75.0, 2) == (window, 45)
    assert hit(window, 120.0, 2) == (Window(120.0, 1), None)


def test_ids_depend_on_seed_purpose_and_number_and_keys_are_fingerprinted() -> None:
    a, b = Ids(9), Ids(9)
    assert [a.uuid4("task", 1), a.token("task", 1, 8)] == [b.uuid4("task", 1), b.token("task", 1, 8)]
    assert a.uuid4("task", 1) != a.uuid4("task", 2) != a.uuid4("request", 1)
    assert a.uuid4("task", 1) != Ids(10).uuid4("task", 1)
    assert len(a.hex("media", 1)) == 32 and len(a.token("task", 1, 8)) == 8
    assert fingerprint("secret").startswith("sha256:") and "secret" not in fingerprint("secret")  # type: ignore[operator]
    assert fingerprint(None) is None and fingerprint("\ud800")  # a lone surrogate is a key too


def _observed_by_definition(task: Task, now: float) -> tuple[Any, ...]:
    """The snapshot from the properties, as `Task.observe` is specified (it inlines them)."""
    if task.ending is not None and now >= task.ending.at:
        status = task.ending.status
        progress = 100 if status is TaskStatus.SUCCEEDED else task._progress(task.ending.at)
        return (status, progress, None, task.ending.failure, task.ending.at)
    if now >= task.planned_end:
        end, failure = task.planned_end, task.plan
        if failure is not None:
            return (TaskStatus.FAILED, task._progress(end), None, failure, end)
        return (TaskStatus.SUCCEEDED, 100, None, None, end)
    remaining = math.ceil(task.natural_end - now)
    if now < task.started_at:
        return (TaskStatus.QUEUED, 0, remaining, None, None)
    return (TaskStatus.RUNNING, task._progress(now), remaining, None, None)


@given(
    created=st.floats(0, 2e9),
    queue=st.floats(0, 1e4),
    run=st.floats(0, 1e5),
    share=st.floats(-0.5, 1.5),  # where `now` falls: before the queue ends, in the run, after it
    fail_after=st.none() | st.floats(0, 2e5),
)
@example(created=0.0, queue=2.0, run=80.0, share=0.995, fail_after=None)  # progress capped at 99
def test_observing_a_task_matches_its_definition(
    created: float, queue: float, run: float, share: float, fail_after: float | None
) -> None:
    failure = None if fail_after is None else Failure("x", after=fail_after)
    task = Task("t", 1, "p", "o", "m", created, queue, run, 5, "16:9", 1.0, "tok", plan=failure)
    now = created + queue + share * run if share >= 0 else created + queue * (1 + share)
    assert task.observe(now) == Snapshot(*_observed_by_definition(task, now))


def test_every_fault_kind_is_one_record_its_trigger_reads_and_writes_back() -> None:
    from mockserver.engine.faults import KINDS, Trigger, parse, text

    examples = {
        Trigger.FAULT: ["503", "delay=2.5", "reset", "lost", "truncate", "503;delay=1;truncate"],
        Trigger.FAIL: ["service_error", "service_error;after=30", "stall", "stall;after=0"],
        Trigger.CALLBACK: ["drop", "duplicate", "delay=3", "early=5", "duplicate;early=2"],
    }
    for trigger, values in examples.items():
        for value in values:
            assert text(trigger, parse(trigger, value, max_delay=60)) == value
    used = {
        part.split("=")[0] for values in examples.values() for value in values for part in value.split(";")
    }
    for kind in KINDS.values():  # each kind is exercised above by its keyword
        keyword = kind.grammar.split("=")[0]
        assert keyword in used or keyword in ("STATUS", "CODE"), kind.name


def test_the_control_spec_describes_every_fault_kind() -> None:
    from mockserver.engine.faults import KINDS
    from mockserver.spec import read_document

    add_fault = read_document("control")["paths"]["/__mock/faults"]["post"]
    described = str(add_fault["description"])
    fields = add_fault["requestBody"]["content"]["application/json"]["schema"]["properties"]
    for kind in KINDS.values():
        if kind.name in ("status", "code"):  # spelled out as values there (`503`, `CODE`)
            continue
        assert f"`{kind.grammar}`" in described or f"{kind.grammar}`" in described, kind.name
        if kind.trigger.value in ("fail", "callback"):
            assert kind.grammar in fields[kind.trigger.value]["description"], kind.name
