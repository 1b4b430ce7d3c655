"""Clocks, timers, fault rules, the rate limit and ids, pure."""

from __future__ import annotations

import time

import pytest

from mockserver.engine import Engine, starting_state
from mockserver.engine.clock import Clock
from mockserver.engine.faults import FaultRule, parse_status, take
from mockserver.engine.ids import Ids, fingerprint
from mockserver.engine.limits import Window, hit
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
    rules = [FaultRule("f1", "get", 503, 2, key="alice"), FaultRule("f2", "get", 500, 1)]
    assert take(rules, "create", "alice") == (None, rules)
    fired, rest = take(rules, "get", "alice")
    assert fired == rules[0] and rest == [FaultRule("f1", "get", 503, 1, key="alice"), rules[1]]
    fired, rest = take(rest, "get", "bob")
    assert fired == rules[1] and rest == [FaultRule("f1", "get", 503, 1, key="alice")]


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
