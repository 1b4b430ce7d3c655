"""The Redis store beyond what every store does (the `store` suites prove that): it works with
the protocol in Python as with hiredis, its journal entries land in order however many come at
once, and a server that has lost its scripts (`SCRIPT FLUSH`) is given them again."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from mockserver.engine import Engine, NewTask, TaskStatus, starting_state
from mockserver.engine.ids import Ids
from mockserver.engine.journal import EVERYTHING, JournalFields
from mockserver.store import address, resp
from mockserver.store.connection import Connection
from mockserver.store.redis import RedisStore
from tests import redis_server

pytestmark = pytest.mark.anyio
START = 1_767_225_600.0
COUNT = 9000  # entries in one turn: more than Lua can `unpack` at once (about 8,000)


@pytest.fixture(params=["installed", "python"])
async def store(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, redis_base: str
) -> AsyncIterator[RedisStore]:
    """A Redis store speaking the protocol as installed (hiredis, here), and in Python."""
    if request.param == "python":
        monkeypatch.setattr(resp, "reader", resp.PythonReader)
        monkeypatch.setattr(resp, "pack_command", resp.pack)
    made = RedisStore(f"{redis_base}/0", prefix=redis_server.prefix())
    yield made
    await made.close()


def request(number: int) -> JournalFields:
    return {
        "time": START + number,
        "wall": 0.0,
        "method": "GET",
        "path": f"/v1/tasks/t-{number}",
        "query": "",
        "provider": "evolink",
        "operation": "getTaskDetail",
        "key": "sha256:abc",
        "status": 200,
        "duration_ms": 0.5,
        "fault": None,
        "task": f"t-{number}",
        "task_status": "processing",
        "retry_after": None,
        "headers": b"host: fake\r\nauthorization: Bearer mock-key",
        "body": "",
        "body_bytes": 0,
    }


def make_id(ids: Ids, number: int, now: float) -> str:
    return f"t-{int(now)}-{ids.token('task', number, 6)}"


async def a_lifecycle(store: RedisStore) -> list[TaskStatus]:
    """Create a task, then poll it to its end on the manual clock: the statuses seen."""
    engine = Engine(store, starting_state("manual", 1.0, START), seed=3)
    await engine.open()
    new = NewTask(provider="p", model="m", duration=5, aspect_ratio="16:9", credits=7, make_id=make_id)
    task, _ = await engine.create(engine.gate("create", "k", accepted=True), new)
    seen = []
    for _ in range(9):
        polled, _ = await engine.get(engine.gate("get", "k", accepted=True), task.id)
        seen.append(engine.observe(polled).status)
        await engine.advance(10)
    return seen


async def test_a_task_lives_its_life_with_either_protocol(store: RedisStore) -> None:
    seen = await a_lifecycle(store)
    assert seen[0] is TaskStatus.QUEUED and seen[-1] is TaskStatus.SUCCEEDED


async def test_journal_entries_recorded_at_once_are_all_kept_in_order(store: RedisStore) -> None:
    await store.open()
    for number in range(COUNT):
        store.record(request(number))
    entries = await store.journal(EVERYTHING)
    assert [entry.seq for entry in entries] == list(range(1, COUNT + 1))
    assert [entry.task for entry in entries] == [f"t-{number}" for number in range(COUNT)]
    assert entries[0].headers == [("host", "fake"), ("authorization", "Bearer sha256:04b481ae018b")]


async def test_a_server_that_lost_its_scripts_is_given_them_again(store: RedisStore, redis_base: str) -> None:
    await store.open()
    store.record(request(1))
    assert [entry.seq for entry in await store.journal(EVERYTHING)] == [1]
    other = Connection(address.parse(f"{redis_base}/0"))
    try:
        assert await other.call("SCRIPT", "FLUSH") == b"OK"
    finally:
        await other.close()
    store.record(request(2))  # written by its source when its SHA1 is unknown
    assert await a_lifecycle(store)  # every verb's script too
    assert [entry.seq for entry in await store.journal(EVERYTHING)][:2] == [1, 2]
