"""The request journal tests assert on (`GET /__mock/requests`): what each entry keeps, its
filters, its redaction; and per-key isolation (`POST /__mock/reset?key=K`)."""

from __future__ import annotations

import gc
import json
from typing import Any

import httpx
import pytest

from mockserver.engine.ids import fingerprint
from mockserver.engine.journal import REDACTED, JournalEntry, JournalQuery, fields_of, shown_headers
from mockserver.store.memory import MemoryStore
from mockserver.web.journal import CAPPED, _packed
from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    EVOLINK_CREATE,
    KEY,
    OTHER_AUTH,
    OTHER_KEY,
    aimlapi_body,
    client,
    evolink_body,
    make_app,
    state_of,
)

# every store keeps these the same way (the Redis store's in Lua)
pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("each_store")]


async def journal(http: httpx.AsyncClient, **filters: Any) -> list[dict[str, Any]]:
    response = await http.get("/__mock/requests", params=filters)
    assert response.status_code == 200, response.text
    return list(response.json()["requests"])


async def test_an_entry_keeps_what_was_asked_and_what_was_answered() -> None:
    async with client(make_app()) as http:
        created = await http.post(
            EVOLINK_CREATE + "?trace=1",
            headers={**AUTH, "Cookie": "session=s3cret", "X-Mock-Token": "t0ken", "X-Trace": "abc"},
            json=evolink_body(),
        )
        [entry] = await journal(http)
    task = created.json()
    assert entry["method"] == "POST" and entry["path"] == EVOLINK_CREATE and entry["query"] == "trace=1"
    assert entry["provider"] == "evolink" and entry["operation"] == "createVideoGeneration"
    assert entry["status"] == 200 and entry["fault"] is None and entry["duration_ms"] >= 0
    assert entry["task"] == task["id"] and entry["task_status"] == "queued"
    assert entry["key"] == fingerprint(KEY)
    headers = dict(entry["headers"])
    assert headers["authorization"] == f"Bearer {fingerprint(KEY)}"
    assert headers["cookie"] == headers["x-mock-token"] == "[redacted]"
    assert headers["x-trace"] == "abc"
    assert json.loads(entry["body"]) == evolink_body() and entry["body_bytes"] == len(entry["body"])
    for secret in (KEY, "s3cret", "t0ken"):
        assert secret not in str(entry)


async def test_a_create_is_journaled_with_the_status_it_answered_when_the_task_skips_the_queue() -> None:
    # With no queue the task is running as soon as it exists, but the create answers it as
    # created (queued): the journal shows the status as answered, as control.yaml says.
    async with client(make_app(queue_seconds=0)) as http:
        evolink = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        aimlapi = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
        entries = await journal(http)
    assert evolink.json()["status"] == "pending" and aimlapi.json()["status"] == "queued"
    assert [entry["task_status"] for entry in entries] == ["queued", "queued"]


async def test_bodies_are_capped_but_their_length_is_kept() -> None:
    async with client(make_app(journal_body_bytes=32)) as http:
        body = evolink_body(prompt="x" * 1000)
        await http.post(EVOLINK_CREATE, headers=AUTH, json=body)
        [entry] = await journal(http)
    assert len(entry["body"]) == 32 and entry["body_bytes"] > 1000


async def test_headers_are_capped_too_so_a_full_journal_stays_small() -> None:
    async with client(make_app(journal_body_bytes=256)) as http:
        huge = {f"X-Filler-{n}": "y" * 100 for n in range(40)}
        await http.post(EVOLINK_CREATE, headers={**AUTH, **huge}, json=evolink_body())
        [entry] = await journal(http)
    names = [name for name, _ in entry["headers"]]
    assert names[-1] == "x-mock-journal" and "authorization" in names
    assert sum(len(name) + len(value) for name, value in entry["headers"][:-1]) <= 256
    assert len(names) < 10


async def test_a_header_smuggling_a_line_break_cannot_slip_a_secret_past_redaction() -> None:
    # Entries keep headers as `name: value` lines; an in-process client can send any bytes.
    smuggled = [(b"x-trace", b"1\r\nauthorization: Bearer " + KEY.encode()), (b"cookie", b"s3cret")]
    assert shown_headers(b"\r\n".join(map(b": ".join, smuggled))) == [
        ("x-trace", "1"),
        ("authorization", f"Bearer {fingerprint(KEY)}"),
        ("cookie", REDACTED),
    ]
    assert shown_headers(b"") == []


async def test_a_header_over_the_cap_is_left_out_with_all_after_it() -> None:
    async with client(make_app(journal_body_bytes=100)) as http:
        await http.post(EVOLINK_CREATE, headers={**AUTH, "X-Big": "z" * 200}, json=evolink_body())
        [entry] = await journal(http)
    names = [name for name, _ in entry["headers"]]
    assert names[-1] == "x-mock-journal" and "x-big" not in names and "content-type" not in names
    assert names[0] == "host"  # the lines before it are kept
    first_too_big = [(b"x-big", b"z" * 200), (b"host", b"h")]
    marker = CAPPED.decode().split(": ", 1)
    assert shown_headers(_packed(tuple(first_too_big), 100)) == [tuple(marker)]


async def test_the_journal_filters_by_key_operation_status_provider_and_since() -> None:
    async with client(make_app()) as http:
        mine = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        await http.post(EVOLINK_CREATE, headers=OTHER_AUTH, json=evolink_body())
        await http.get(f"/v1/tasks/{mine['id']}", headers=AUTH)
        await http.get(f"/v1/tasks/{mine['id']}", headers=OTHER_AUTH)  # another key's task: 403
        await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
        everything = await journal(http)
        by_key = await journal(http, key=KEY)
        by_operation = await journal(http, operation="getTaskDetail")
        by_status = await journal(http, status=403)
        by_provider = await journal(http, provider="aimlapi")
        since = await journal(http, since=everything[2]["seq"])
        mixed = await journal(http, key=OTHER_KEY, operation="getTaskDetail")
        bad = await http.get("/__mock/requests", params={"status": "teapot"})
    assert len(everything) == 5
    assert [e["seq"] for e in by_key] == [everything[i]["seq"] for i in (0, 2, 4)]
    assert {e["key"] for e in by_key} == {fingerprint(KEY)}
    assert [e["operation"] for e in by_operation] == ["getTaskDetail"] * 2
    assert [e["key"] for e in by_status] == [fingerprint(OTHER_KEY)]
    assert [e["operation"] for e in by_provider] == ["createGeneration"]
    assert since == everything[3:]
    assert [(e["key"], e["status"]) for e in mixed] == [(fingerprint(OTHER_KEY), 403)]
    assert bad.status_code == 400


async def test_resetting_one_key_forgets_only_its_state() -> None:
    app = make_app(credits=100, rate_limit=3)
    async with client(app) as http:
        mine = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        theirs = (await http.post(EVOLINK_CREATE, headers=OTHER_AUTH, json=evolink_body())).json()
        for key in (KEY, OTHER_KEY):
            rule = {"operation": "getTaskDetail", "status": 503, "key": key}
            assert (await http.post("/__mock/faults", json=rule)).status_code == 201
        await http.get(f"/v1/tasks/{mine['id']}", headers=AUTH)  # the third request this minute
        reset = await http.post("/__mock/reset", params={"key": KEY})
        assert reset.status_code == 200 and reset.json()["tasks"] == 1
        assert reset.json()["key"] == fingerprint(KEY)
        assert [e["key"] for e in await journal(http)] == [fingerprint(OTHER_KEY)]
        assert [r["key"] for r in (await http.get("/__mock/faults")).json()["faults"]] == [
            fingerprint(OTHER_KEY)
        ]
        assert [t["id"] for t in (await http.get("/__mock/tasks")).json()["tasks"]] == [theirs["id"]]
        engine = state_of(app).engine
        assert await engine.balance(fingerprint(KEY), "evolink") == 100  # its spending forgotten
        assert await engine.balance(fingerprint(OTHER_KEY), "evolink") == 93
        gone = await http.get(f"/v1/tasks/{mine['id']}", headers=AUTH)
        again = [
            (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).status_code for _ in range(2)
        ]
        kept = await http.get(f"/v1/tasks/{theirs['id']}", headers=OTHER_AUTH)
    assert gone.status_code == 404
    assert again == [200, 200]  # a new rate-limit window: 3 this minute, not 5
    assert kept.status_code == 503  # their rule still armed


async def test_a_whole_reset_still_forgets_everything() -> None:
    async with client(make_app()) as http:
        await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())
        await http.post(EVOLINK_CREATE, headers=OTHER_AUTH, json=evolink_body())
        status = (await http.post("/__mock/reset")).json()
        assert await journal(http) == [] and status["tasks"] == 0 and "key" not in status


async def test_the_memory_store_keeps_entries_packed_out_of_the_collectors_sight() -> None:
    # A tuple per entry was walked by every young collection: 10-20 ms pauses under load. Packed,
    # every field reads back exactly: floats to the last bit, newlines in the body and the
    # headers, a subclass of str as the string it holds.
    class Word(str):
        pass

    store = MemoryStore(journal_limit=10)
    plain = JournalEntry(0, 1767225600.1234567, 0.1 + 0.2, Word("GET"), "/v1/tasks/x", "a=1", "evolink",
                         "op", "k1", 200, 1e-300, None, "x", "running", None, b"host: a\r\nx-note: b\nc",
                         'say "hi"\nbye', 12)  # fmt: skip
    odd = plain._replace(path="/v1/tasks/\udcff", key="k2")  # a lone surrogate: JSON cannot carry it
    paired = plain._replace(headers=[("host", "a")], key="k3")  # not as sent
    for entry in (plain, odd, paired):
        store.record(fields_of(entry))
    assert isinstance(store._journal[0], bytes) and not gc.is_tracked(store._journal[0])
    assert isinstance(store._journal[1], tuple) and isinstance(store._journal[2], tuple)  # kept as they are
    read = await store.journal(JournalQuery())
    assert read == [plain._replace(seq=1), odd._replace(seq=2), paired._replace(seq=3)]
    await store.forget("k1")
    assert [entry.key for entry in await store.journal(JournalQuery())] == ["k2", "k3"]
