"""`GET /__mock/events` on a live fake (memory store, manual clock): a lifecycle's every
transition exactly once and in order, each request as journaled, the filters, resuming with
`Last-Event-ID`, and the control plane's access rules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.events.sse import of_task, stream
from tests.helpers import AUTH, EVOLINK_CREATE, OTHER_AUTH, OTHER_KEY, evolink_body, live_server, make_app

LIFECYCLE = (
    [("task.created", "queued", 0), ("task.changed", "running", 0)]
    + [("task.changed", "running", p) for p in range(10, 100, 10)]
    + [("task.ended", "succeeded", 100)]
)


@pytest.fixture
def fake() -> Iterator[tuple[str, Any]]:
    app = make_app(events_ping=0.2)
    with live_server(app) as base:
        yield base, app.state.mock


def create(base: str, headers: dict[str, str] = AUTH) -> str:
    answer = httpx.post(base + EVOLINK_CREATE, headers=headers, json=evolink_body())
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def advance(base: str, seconds: float) -> None:
    httpx.post(base + "/__mock/clock/advance", json={"seconds": seconds}).raise_for_status()


def ended(task_id: str) -> Any:
    return lambda messages: ("task.ended", "succeeded", 100) in of_task(messages, task_id)


def test_a_lifecycle_is_streamed_each_transition_once_and_in_order(fake: tuple[str, Any]) -> None:
    base, _ = fake
    with stream(base) as events:
        task_id = create(base)
        httpx.get(f"{base}/v1/tasks/{task_id}", headers=AUTH).raise_for_status()
        for seconds in (1, 30, 0.5, 30, 40):
            advance(base, seconds)
        events.wait_for(ended(task_id), "the task's end")
        messages = events.wait_for(lambda ms: sum(m.event == "request" for m in ms) == 2, "two requests")
    assert of_task(messages, task_id) == LIFECYCLE
    requests = [m.data["request"] for m in messages if m.event == "request"]
    assert [(r["operation"], r["seq"], r["task"]) for r in requests] == [
        ("createVideoGeneration", 1, task_id),
        ("getTaskDetail", 2, task_id),
    ]
    moved = [m.data["clock"]["now"] - 1767225600 for m in messages if m.event == "clock.moved"]
    assert moved == [1, 31, 31.5, 61.5, 101.5]
    changed = [m for m in messages if m.event == "task.changed"]
    assert [m.data["from"]["progress"] for m in changed[1:]] == list(range(0, 90, 10))
    assert changed[0].data["from"] == {"status": "queued", "progress": 0}
    assert all(m.data["key"] == "sha256:04b481ae018b" and m.data["node"] == 1 for m in changed)
    times = [m.data["time"] for m in messages if m.event.startswith("task.")]
    assert times == sorted(times) and len({m.id for m in messages}) == len(messages)


def test_the_key_and_kind_filters_choose_what_a_subscriber_sees(fake: tuple[str, Any]) -> None:
    base, _ = fake
    with stream(base, key=OTHER_KEY, kind="task.created,clock") as mine, stream(base, kind="task") as every:
        theirs, own = create(base), create(base, OTHER_AUTH)
        advance(base, 100)
        every.wait_for(lambda ms: all(ended(t)(ms) for t in (theirs, own)), "both ends")
        seen = mine.wait_for(lambda ms: any(m.event == "clock.moved" for m in ms), "the clock")
    assert [(m.event, m.data["task"]["id"]) for m in seen if m.event == "task.created"] == [
        ("task.created", own)
    ]
    assert {m.event for m in seen} == {"task.created", "clock.moved"}
    assert {m.event for m in every.messages} == {"task.created", "task.changed", "task.ended"}


def test_an_unknown_kind_is_a_bad_request(fake: tuple[str, Any]) -> None:
    base, _ = fake
    answer = httpx.get(base + "/__mock/events", params={"kind": "task,tsak"})
    assert answer.status_code == 400 and "'tsak' is not a kind" in answer.json()["error"]["message"]


def test_a_subscriber_coming_back_with_last_event_id_gets_exactly_what_it_missed(
    fake: tuple[str, Any],
) -> None:
    base, _ = fake
    with stream(base, kind="task") as whole:
        with stream(base, kind="task") as first:
            task_id = create(base)
            advance(base, 20)
            seen = first.wait_for(lambda ms: len(ms) >= 4, "four events")
        advance(base, 80)
        everything = whole.wait_for(ended(task_id), "the end")
        with stream(base, kind="task", last_event_id=str(seen[3].id)) as back:
            resumed = back.wait_for(ended(task_id), "the end")
    assert [m.id for m in resumed] == [m.id for m in everything[4:]]
    assert [m.id for m in seen[:4]] + [m.id for m in resumed] == [m.id for m in everything]


def test_an_id_this_process_did_not_give_gets_a_resync_then_what_comes(fake: tuple[str, Any]) -> None:
    base, _ = fake
    with stream(base, last_event_id="ffffff-12") as events:
        create(base)
        messages = events.wait_for(lambda ms: any(m.event == "task.created" for m in ms))
    assert messages[0].event == "resync" and messages[0].id is None
    assert messages[0].data["last_event_id"] == "ffffff-12"


def test_the_stream_follows_the_control_plane_access_rules() -> None:
    with live_server(make_app(control_token="sesame", events_ping=0.2)) as base:
        assert httpx.get(base + "/__mock/events").status_code == 401
        refused = httpx.get(base + "/__mock/events", headers={"Sec-Fetch-Site": "cross-site"})
        assert refused.status_code == 403
        with stream(base, kind="clock") as events:
            pass
        assert events.status == 401
    with live_server(make_app(events_ping=0.2)) as base:
        foreign = httpx.get(base + "/__mock/events", headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403
