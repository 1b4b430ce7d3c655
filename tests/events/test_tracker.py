"""The tracker derives each task's transitions from the clock: the run's start, each progress
step, the end, once each and in order, however the clock is moved."""

from __future__ import annotations

import pytest

from mockserver.engine.events import TaskChanged, TaskEnded
from mockserver.engine.tasks import Ending, Failure, Observation, Script, Stall, Task, TaskStatus
from mockserver.events.tracker import Tracker, next_change

START = 1_000.0


def task(**changes: object) -> Task:
    made = Task("t-1", 1, "evolink", "sha256:k", "m", START, 2.0, 77.0, 5, "16:9", 7.0, "media")
    return made._replace(**changes)


def lifecycle(tracker: Tracker, until: float, steps: int) -> list[tuple[str, str, int, float]]:
    """The transitions, the clock moved to `until` in `steps` equal moves."""
    shown = []
    for n in range(1, steps + 1):
        for event in tracker.run_to(START + (until - START) * n / steps):
            snapshot = event.data.task.observe(event.time)
            shown.append((event.kind, snapshot.status.value, snapshot.progress, round(event.time - START, 4)))
    return shown


@pytest.mark.parametrize("steps", [1, 7, 400])
def test_a_lifecycle_gives_the_start_each_step_and_the_end_once_in_order(steps: int) -> None:
    tracker = Tracker(step=10)
    tracker.follow(task(), START)
    shown = lifecycle(tracker, START + 200, steps)
    expected = [("task.changed", "running", 0, 2.0)]
    expected += [("task.changed", "running", p, round(2 + 77 * p / 100, 4)) for p in range(10, 100, 10)]
    expected += [("task.ended", "succeeded", 100, 79.0)]
    assert [(k, s, p) for k, s, p, _ in shown] == [(k, s, p) for k, s, p, _ in expected]
    assert [t for *_, t in shown] == pytest.approx([t for *_, t in expected], abs=1e-5)
    assert len(tracker) == 0 and tracker.run_to(START + 1e6) == []


def test_each_change_says_where_the_task_came_from() -> None:
    tracker = Tracker(step=25)
    tracker.follow(task(), START)
    events = tracker.run_to(START + 100)
    changes = [(e.data.status.value, e.data.progress) for e in events if isinstance(e.data, TaskChanged)]
    assert changes == [("queued", 0), ("running", 0), ("running", 25), ("running", 50)]
    assert isinstance(events[-1].data, TaskEnded) and events[-1].key == "sha256:k"


def test_a_task_failing_at_its_start_goes_from_queued_to_its_end() -> None:
    tracker = Tracker(step=10)
    tracker.follow(task(plan=Failure("content_policy_violation", at_start=True)), START)
    [ended] = tracker.run_to(START + 100)
    assert isinstance(ended.data, TaskEnded) and ended.time == pytest.approx(START + 2)


def test_a_stalled_task_stops_changing_and_never_ends_by_itself() -> None:
    tracker = Tracker(step=10)
    tracker.follow(task(plan=Stall(after=40.0)), START)
    events = tracker.run_to(START + 10_000)
    assert [e.kind for e in events] == ["task.changed"] * 5  # running 0, 10, 20, 30, 40
    assert tracker.next_due() is None and len(tracker) == 1


def test_a_forced_end_is_reached_by_its_own_time() -> None:
    forced = task(ending=Ending(START + 30, TaskStatus.FAILED, Failure("cancelled")))
    assert next_change(forced, START + 29.5, 10) == pytest.approx(START + 30)
    assert next_change(forced, START + 30, 10) is None


def test_a_task_followed_midway_gives_only_what_comes_after() -> None:
    tracker = Tracker(step=10)
    tracker.follow(task(), START + 41)  # running, progress 50
    first = tracker.run_to(START + 50)[0]
    assert first.data.task.observe(first.time).progress == 60


def test_a_replayed_lifecycle_changes_at_its_recorded_offsets() -> None:
    seen = [
        (0, "queued", 0),
        (3, "running", 5),
        (10, "running", 40),
        (20, "running", 41),
        (30, "succeeded", 100),
    ]
    script = Script(tuple(Observation(o, TaskStatus(s), p, None) for o, s, p in seen))
    tracker = Tracker(step=10)
    tracker.follow(task(script=script), START)
    events = tracker.run_to(START + 100)
    shown = [(e.kind, round(e.time - START, 4), e.data.task.observe(e.time).progress) for e in events]
    assert shown == [("task.changed", 3, 5), ("task.changed", 10, 40), ("task.ended", 30, 100)]


def test_forgetting_a_key_drops_its_tasks_and_a_dropped_task_gives_nothing_more() -> None:
    tracker = Tracker(step=10)
    tracker.follow(task(), START)
    tracker.follow(task(id="t-2", owner="sha256:other"), START)
    tracker.forget("sha256:k")
    tracker.drop("t-2")
    assert tracker.run_to(START + 100) == []
