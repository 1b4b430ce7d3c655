"""The control plane: reset, clock, tasks and forced outcomes, journal, specs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    EVOLINK_CREATE,
    advance,
    aimlapi_body,
    client,
    evolink_body,
    make_app,
)

pytestmark = pytest.mark.anyio


async def test_clock_reads_and_advances_and_rejects_bad_input() -> None:
    async with client(make_app()) as http:
        before = (await http.get("/__mock/clock")).json()
        after = (await http.post("/__mock/clock/advance", json={"seconds": 90.5})).json()
        negative = await http.post("/__mock/clock/advance", json={"seconds": -1})
        wrong = await http.post("/__mock/clock/advance", json={"secs": 1})
    assert before == {"now": 1767225600.0, "iso": "2026-01-01T00:00:00.000Z", "mode": "manual", "speed": 1.0}
    assert after["now"] == 1767225690.5
    assert negative.status_code == 400 and negative.json()["error"]["param"] == "seconds"
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_request"


async def test_tasks_are_listed_filtered_and_shown_without_the_key() -> None:
    async with client(make_app()) as http:
        evolink = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
        everything = (await http.get("/__mock/tasks")).json()["tasks"]
        only = (await http.get("/__mock/tasks", params={"provider": "evolink"})).json()["tasks"]
        one = (await http.get(f"/__mock/tasks/{evolink['id']}")).json()
        missing = await http.get("/__mock/tasks/nope")
        bad_filter = await http.get("/__mock/tasks", params={"provider": "other"})
    assert len(everything) == 2 and [t["id"] for t in only] == [evolink["id"]]
    assert (
        one["status"] == "queued" and one["provider_status"] == "pending" and one["key"].startswith("sha256:")
    )
    assert "mock-key" not in str(everything)
    assert missing.status_code == 404 and bad_filter.status_code == 400


@pytest.mark.parametrize(
    ("action", "body", "status", "code"),
    [
        ("complete", None, "completed", None),
        ("fail", None, "failed", "service_error"),
        (
            "fail",
            {"code": "image_processing_error", "message": "bad image"},
            "failed",
            "image_processing_error",
        ),
        ("cancel", None, "failed", "request_cancelled"),
    ],
)
async def test_forced_outcomes_show_at_once_to_the_provider_client(
    action: str, body: dict[str, Any] | None, status: str, code: str | None
) -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        await advance(http, 10)
        forced = await http.post(f"/__mock/tasks/{task['id']}/{action}", json=body)
        seen = (await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)).json()
        again = await http.post(f"/__mock/tasks/{task['id']}/{action}", json=body)
    assert forced.status_code == 200
    assert seen["status"] == status
    assert seen.get("error", {}).get("code") == code
    if body and "message" in body:
        assert seen["error"]["message"] == "bad image"
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"


async def test_cancel_is_seen_as_failed_by_aimlapi_too_and_can_cancel_is_only_while_pending() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        assert task["task_info"]["can_cancel"] is True
        await advance(http, 3)
        assert (await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)).json()["task_info"][
            "can_cancel"
        ] is False
        generation = (await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())).json()
        await http.post(f"/__mock/tasks/{generation['id']}/cancel")
        seen = (await http.get(AIMLAPI_PATH, params={"generation_id": generation["id"]}, headers=AUTH)).json()
        bad = await http.post(f"/__mock/tasks/{task['id']}/fail", json={"code": "not valid!"})
    assert seen["status"] == "error" and seen["error"]["name"] == "request_cancelled"
    assert bad.status_code == 400


async def test_journal_records_provider_and_file_requests_with_key_fingerprints() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        await http.get(f"/v1/tasks/{task['id']}", headers={"Authorization": "Bearer wrong"})
        await advance(http, 80)
        [url] = (await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)).json()["results"]
        await http.get(url)
        journal = (await http.get("/__mock/requests")).json()["requests"]
        only = (await http.get("/__mock/requests", params={"operation": "getTaskDetail"})).json()["requests"]
    assert [(e["method"], e["provider"], e["operation"], e["status"]) for e in journal] == [
        ("POST", "evolink", "createVideoGeneration", 200),
        ("GET", "evolink", "getTaskDetail", 401),
        ("GET", "evolink", "getTaskDetail", 200),
        ("GET", "files", "getResultVideo", 200),
    ]
    assert journal[0]["key"].startswith("sha256:") and journal[0]["key"] != journal[1]["key"]
    assert journal[2]["time"] == journal[0]["time"] + 80
    assert [e["seq"] for e in only] == [2, 3]


async def test_reset_forgets_everything_and_rewinds_the_manual_clock() -> None:
    async with client(make_app(credits=7)) as http:
        first = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        await http.post("/__mock/faults", json={"operation": "getTaskDetail", "status": 500})
        await advance(http, 100)
        reset = (await http.post("/__mock/reset")).json()
        assert reset == {
            "clock": {"now": 1767225600.0, "iso": "2026-01-01T00:00:00.000Z", "mode": "manual", "speed": 1.0},
            "tasks": 0,
            "seed": 1,
        }
        assert (await http.get("/__mock/requests")).json()["requests"] == []
        assert (await http.get("/__mock/faults")).json()["faults"] == []
        again = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
    assert again["id"] == first["id"]  # same seed, same ids; credits restored


async def test_specs_are_served_as_json() -> None:
    async with client(make_app()) as http:
        spec = await http.get("/__mock/specs/evolink")
        missing = await http.get("/__mock/specs/other")
    assert spec.json()["paths"]["/v1/tasks/{task_id}"]["get"]["operationId"] == "getTaskDetail"
    assert missing.status_code == 400


async def run_script(seed: int) -> tuple[list[str], list[dict[str, Any]]]:
    async with client(make_app(seed=seed)) as http:
        ids = []
        for i in range(3):
            ids.append((await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()["id"])
            ids.append((await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())).json()["id"])
            await http.get(f"/v1/tasks/{ids[-2]}", headers=AUTH)
            await http.post(EVOLINK_CREATE, headers={**AUTH, "X-Mock-Fault": "503"}, json=evolink_body())
            await advance(http, 7 * i)
        entries = (await http.get("/__mock/requests")).json()["requests"]
    real = ("wall", "duration_ms")  # real time: the rest is the same for the same seed
    return ids, [{k: v for k, v in entry.items() if k not in real} for entry in entries]


async def test_the_same_seed_gives_the_same_ids_and_the_same_journal() -> None:
    first, second, other = await run_script(42), await run_script(42), await run_script(43)
    assert first == second
    assert first[0] != other[0][0]
    assert len(set(first[0])) == 6


async def test_tasks_are_listed_a_page_at_a_time_to_the_end() -> None:
    async with client(make_app()) as http:
        made = [
            (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()["id"]
            for _ in range(7)
        ]
        await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
        seen, after, pages = [], None, 0
        while True:
            params = {"provider": "evolink", "limit": 3, **({"after": after} if after else {})}
            page = (await http.get("/__mock/tasks", params=params)).json()
            seen += [t["id"] for t in page["tasks"]]
            pages, after = pages + 1, page["next"]
            if after is None:
                break
        first = (await http.get("/__mock/tasks")).json()
        too_many = await http.get("/__mock/tasks", params={"limit": 1001})
        bad_cursor = await http.get("/__mock/tasks", params={"after": "x"})
    assert seen == made and pages == 3
    assert len(first["tasks"]) == 8 and first["next"] is None  # 100 to a page by default
    assert too_many.status_code == 400 and bad_cursor.status_code == 400


async def test_pages_skip_what_retention_pruned() -> None:
    async with client(make_app(task_retention=100)) as http:
        old = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()["id"]
        await advance(http, 200)  # ended at 79, kept until 179: pruned
        new = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()["id"]
        listed = (await http.get("/__mock/tasks")).json()["tasks"]
        gone = await http.get(f"/__mock/tasks/{old}")
    assert [t["id"] for t in listed] == [new] and gone.status_code == 404
