"""Clocks, scheduler, fault rules and the rate limiter, pure."""

from __future__ import annotations

import asyncio
import time

import pytest

from mockserver.engine import Engine, ManualClock, RealClock
from mockserver.engine.faults import FaultBook, RateLimiter
from mockserver.engine.ids import IdFactory, fingerprint
from mockserver.engine.scheduler import Scheduler


def test_manual_clock_moves_only_forward_and_resets_to_its_start() -> None:
    clock = ManualClock(100.0)
    clock.advance(5)
    clock.jump_to(50)
    assert clock.now() == 105
    assert clock.real_seconds(10) is None
    clock.reset()
    assert clock.now() == 100


def test_scaled_real_clock_runs_speed_times_faster_and_can_jump() -> None:
    clock = RealClock(speed=100)
    start = clock.now()
    started = time.monotonic()
    time.sleep(0.05)
    elapsed, real = clock.now() - start, time.monotonic() - started
    assert elapsed == pytest.approx(real * 100, rel=0.2, abs=0.5)  # 100x the real time that passed
    clock.advance(1000)
    assert clock.now() - start >= 1000
    assert clock.real_seconds(50) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        RealClock(speed=0)


def test_scheduler_runs_due_timers_in_time_order_and_skips_cancelled() -> None:
    clock = ManualClock(0)
    scheduler = Scheduler(clock)
    ran: list[str] = []
    scheduler.call_at(3, lambda: ran.append("c"))
    scheduler.call_at(1, lambda: ran.append("a"))
    scheduler.call_at(2, lambda: ran.append("b")).cancel()
    clock.jump_to(2.5)
    assert scheduler.run_due() == 1 and ran == ["a"]
    assert len(scheduler) == 1 and scheduler.next_due() == 3


def test_engine_advance_runs_effects_at_the_time_they_were_due() -> None:
    engine = Engine(ManualClock(0), seed=1)
    seen: list[float] = []
    engine.scheduler.call_at(5, lambda: seen.append(engine.clock.now()))
    engine.scheduler.call_at(
        5, lambda: engine.scheduler.call_later(1, lambda: seen.append(engine.clock.now()))
    )
    engine.advance(60)
    assert seen == [5, 6] and engine.clock.now() == 60


def test_advance_settled_waits_for_in_flight_work_before_each_step() -> None:
    engine = Engine(ManualClock(0), seed=1, settle_seconds=1.0)
    seen: list[float] = []

    async def work() -> None:
        await asyncio.sleep(0.01)
        seen.append(engine.clock.now())
        engine.scheduler.call_later(1, lambda: seen.append(engine.clock.now()))

    async def main() -> None:
        engine.scheduler.call_at(2, lambda: engine.track(asyncio.ensure_future(work())))
        await engine.advance_settled(10)

    asyncio.run(main())
    assert seen == [2, 3]


def test_fault_rules_match_operation_and_key_and_run_out() -> None:
    book = FaultBook()
    book.add("getTaskDetail", 503, count=2, key="alice")
    assert book.take("getTaskDetail", "bob") is None
    assert book.take("createVideoGeneration", "alice") is None
    assert [book.take("getTaskDetail", "alice").status for _ in range(2)] == [503, 503]  # type: ignore[union-attr]
    assert book.take("getTaskDetail", "alice") is None and book.rules() == []


def test_rate_limiter_allows_n_per_minute_per_key_then_says_how_long_to_wait() -> None:
    limiter = RateLimiter(2)
    assert limiter.hit("k", 60.0) is None and limiter.hit("k", 70.0) is None
    assert limiter.hit("k", 75.0) == 45
    assert limiter.hit("other", 75.0) is None
    assert limiter.hit("k", 120.0) is None
    assert RateLimiter(0).hit("k", 0) is None


def test_ids_are_seeded_per_purpose_and_keys_are_fingerprinted() -> None:
    a, b = IdFactory(9), IdFactory(9)
    assert [a.uuid4("task"), a.token("x", 8)] == [b.uuid4("task"), b.token("x", 8)]
    c = IdFactory(9)
    c.uuid4("request")  # another purpose does not shift the task stream
    assert c.uuid4("task") == IdFactory(9).uuid4("task")
    assert fingerprint("secret").startswith("sha256:") and "secret" not in fingerprint("secret")  # type: ignore[operator]
    assert fingerprint(None) is None
