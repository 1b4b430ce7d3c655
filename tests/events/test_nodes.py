"""With the Redis store, every process's events reach every process's subscribers, once each:
two `mockserver` processes on one redis-server (manual clock), a stream on each."""

from __future__ import annotations

import httpx
import pytest

from mockserver.engine.journal import JournalQuery
from mockserver.events.redis import RedisEvents
from mockserver.store.redis import RedisStore
from tests import redis_server
from tests.e2e.nodes import cluster
from tests.events.sse import of_task, stream
from tests.events.test_stream import LIFECYCLE, ended
from tests.helpers import AUTH, EVOLINK_CREATE, evolink_body

pytestmark = pytest.mark.slow


def create(base: str) -> str:
    answer = httpx.post(base + EVOLINK_CREATE, headers=AUTH, json=evolink_body())
    assert answer.status_code == 200, answer.text
    return str(answer.json()["id"])


def test_each_node_streams_every_nodes_lifecycles_once_and_in_order(redis_url: str) -> None:
    with cluster(redis_url, "--clock", "manual", "--seed", "1", events_ping="0.2") as nodes:
        a, b = nodes.start(), nodes.start()
        with stream(a.base) as on_a, stream(b.base) as on_b:
            made_on_a, made_on_b = create(a.base), create(b.base)
            httpx.get(f"{b.base}/v1/tasks/{made_on_a}", headers=AUTH).raise_for_status()
            httpx.post(f"{a.base}/__mock/clock/advance", json={"seconds": 30}).raise_for_status()
            httpx.post(f"{b.base}/__mock/tasks/{made_on_b}/cancel").raise_for_status()
            httpx.post(f"{b.base}/__mock/clock/advance", json={"seconds": 70}).raise_for_status()
            seen = [
                events.wait_for(
                    lambda ms: ended(made_on_a)(ms) and sum(m.event == "request" for m in ms) == 3, "all"
                )
                for events in (on_a, on_b)
            ]
    for messages in seen:
        assert of_task(messages, made_on_a) == LIFECYCLE
        cancelled = of_task(messages, made_on_b)
        assert cancelled[:2] == [("task.created", "queued", 0), ("task.changed", "running", 0)]
        assert cancelled[-1] == ("task.ended", "failed", 36) and len(cancelled) == 6  # 0, 10, 20, 30
        requests = [m.data["request"]["seq"] for m in messages if m.event == "request"]
        assert requests == [1, 2, 3]
        assert [m.data["node"] for m in messages if m.event == "task.created"] == [1, 2]
        moved = [m.data["clock"]["now"] - 1767225600 for m in messages if m.event == "clock.moved"]
        assert moved == [30, 100]


@pytest.mark.anyio
async def test_the_transport_reads_the_journal_as_the_store_keeps_it(redis_base: str) -> None:
    """The transport reads the store's journal layout itself: both must agree."""
    url, prefix = f"{redis_base}/0", redis_server.prefix()
    store, events = RedisStore(url, prefix=prefix, journal_limit=5), RedisEvents(url, prefix)
    try:
        assert await events.after(0, 10) == (0, [])
        for number in range(8):
            store.record(_fields(f"/v1/tasks/{number}"))
        kept = await store.journal(JournalQuery())
        assert await events.after(0, 10) == (8, kept)
        assert await events.after(5, 10) == (8, kept[2:])
        assert await events.after(5, 1) == (8, kept[2:3])
        assert await events.after(8, 10) == (8, [])
    finally:
        await events.close()
        await store.close()


def _fields(path: str) -> dict[str, object]:
    return {
        "time": 1.0, "wall": 2.0, "method": "GET", "path": path, "query": "", "provider": "evolink",
        "operation": "getTaskDetail", "key": None, "status": 200, "duration_ms": 0.5, "fault": None,
        "task": None, "task_status": None, "retry_after": None, "headers": b"", "body": "", "body_bytes": 0,
    }  # fmt: skip
