"""Replay (`--replay FILE.har`, `POST /__mock/replay`, the plugin marker's `replay=`): a recorded
lifecycle comes back on the fake clock (the same status words, progress and ETA at the same
offsets, the same outcome, the callback at its offset), recorded errors come back for the same
request, ids and links stay the fake's own; on every store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers import AUTH, EVOLINK_CREATE, advance, client, evolink_body, make_app
from tests.upstream import recorded

pytestmark = [pytest.mark.anyio, pytest.mark.usefixtures("each_store")]
HOOK = "https://hooks.example.com/done"


class Receiver(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(await request.aread()))
        return httpx.Response(200, request=request)


async def resolve(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def saved(tmp_path: Path, *entries: dict[str, Any]) -> str:
    path = tmp_path / "recording.har"
    path.write_text(json.dumps(recorded.har(*entries)))
    return str(path)


def body(**changes: Any) -> dict[str, Any]:
    """A create of the recorded shape (its prompt, image and callback URL differ: they are not
    the shape; that it has a callback URL is)."""
    return evolink_body(**{"duration": 5, "aspect_ratio": "9:16", "callback_url": HOOK, **changes})


async def poll(http: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    return dict((await http.get(f"/v1/tasks/{task_id}", headers=AUTH)).json())


def seen(task: dict[str, Any]) -> tuple[str, int, int | None]:
    return task["status"], task["progress"], task["task_info"].get("estimated_time")


async def test_a_recorded_lifecycle_comes_back_at_the_same_offsets_on_the_fake_clock(tmp_path: Path) -> None:
    receiver = Receiver()
    app = make_app(
        replay=(saved(tmp_path, *recorded.lifecycle()),),
        resolver=resolve,
        callback_transport=receiver,
        settle_seconds=0.05,
    )
    async with client(app) as http:
        created = (await http.post(EVOLINK_CREATE, headers=AUTH, json=body())).json()
        steps = []
        for offset in (0, 3, 9.9, 10, 39, 40, 94.9, 95):
            now = (await http.get("/__mock/clock")).json()["now"]
            await advance(http, created["created"] + offset - now)
            steps.append(seen(await poll(http, created["id"])))
        got_callback_before_96 = list(receiver.bodies)
        await advance(http, 1)
        done = await poll(http, created["id"])
        video = await http.get(httpx.URL(done["results"][0]).path)
    assert seen(created) == ("pending", 0, 140)  # the create's recorded answer
    assert steps == [
        ("pending", 0, 140),
        ("pending", 0, 137),
        ("pending", 0, 137),
        ("processing", 12, 60),
        ("processing", 12, 60),
        ("processing", 55, 30),
        ("processing", 55, 30),
        ("completed", 100, None),
    ]
    assert created["id"] != "task-unified-1790000000-realreal"  # the fake's own id
    assert done["results"][0].startswith("http://") and "cdn.example.com" not in done["results"][0]
    assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
    assert got_callback_before_96 == [] and [b["status"] for b in receiver.bodies] == ["completed"]


async def test_a_recorded_failure_comes_back_with_its_code_and_message(tmp_path: Path) -> None:
    app = make_app(replay=(saved(tmp_path, *recorded.lifecycle(fail="content_policy_violation")),))
    async with client(app) as http:
        created = (await http.post(EVOLINK_CREATE, headers=AUTH, json=body())).json()
        await advance(http, 95)
        failed = await poll(http, created["id"])
        shown = (await http.get(f"/__mock/tasks/{created['id']}")).json()
    assert failed["status"] == "failed" and failed["progress"] == 70
    assert failed["error"] == {
        "code": "content_policy_violation",
        "message": "Recorded failure.",
        "type": "task_error",
    }
    assert shown["status"] == "failed" and shown["error_code"] == "content_policy_violation"


async def test_creates_of_one_shape_get_the_recorded_answers_in_recorded_order(tmp_path: Path) -> None:
    first = recorded.lifecycle("task-unified-1790000000-aaaaaaaa")[:-1]
    refused = recorded.entry(
        200, "createVideoGeneration", "POST", f"{recorded.EVOLINK}/v1/videos/generations", 429,
        {"error": {"code": "rate_limit_exceeded", "message": "Recorded limit", "type": "rate_limit_error"}},
        task=None, request={**recorded.CREATE_BODY, "callback_url": recorded.HOOK},
    )  # fmt: skip
    app = make_app(replay=(saved(tmp_path, *first, refused),))
    async with client(app) as http:
        one = await http.post(EVOLINK_CREATE, headers=AUTH, json=body())
        two = await http.post(EVOLINK_CREATE, headers=AUTH, json=body())
        three = await http.post(EVOLINK_CREATE, headers=AUTH, json=body())  # recordings used up
        other = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(duration=10))
    assert one.status_code == 200 and one.json()["task_info"]["estimated_time"] == 140
    assert two.status_code == 429 and two.json()["error"]["message"] == "Recorded limit"
    assert three.status_code == 200 and three.json()["task_info"]["estimated_time"] == 79  # the fake's own
    assert other.status_code == 200  # another shape: faked as usual


async def test_a_request_the_recording_answered_with_an_error_gets_that_answer_again(tmp_path: Path) -> None:
    missing = recorded.entry(
        5, "getTaskDetail", "GET", f"{recorded.EVOLINK}/v1/tasks/task-unified-1-gone", 404,
        {"error": {"code": "task_not_found", "message": "Recorded: no such task", "type": "not_found"}},
        task=None,
    )  # fmt: skip
    app = make_app(replay=(saved(tmp_path, missing),))
    async with client(app) as http:
        again = await http.get("/v1/tasks/task-unified-1-gone", headers=AUTH)
        other = await http.get("/v1/tasks/task-unified-1-other", headers=AUTH)
    assert again.status_code == 404 and again.json()["error"]["message"] == "Recorded: no such task"
    assert other.status_code == 404 and other.json()["error"]["message"] != "Recorded: no such task"


async def test_strict_replay_names_an_unmatched_create_and_the_closest_recorded_one(tmp_path: Path) -> None:
    app = make_app(replay=(saved(tmp_path, *recorded.lifecycle()),), replay_strict=True)
    async with client(app) as http:
        refused = await http.post(EVOLINK_CREATE, headers=AUTH, json=body(duration=10))
        matched = await http.post(EVOLINK_CREATE, headers=AUTH, json=body())
        used_up = await http.post(EVOLINK_CREATE, headers=AUTH, json=body())
    problem = refused.headers["x-mock-problem"]
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "replay"
    assert "no recorded create matches" in problem and "duration=10" in problem
    assert "closest recorded one" in problem and "duration=5" in problem and "differs in duration" in problem
    assert matched.status_code == 200
    assert (
        used_up.status_code == 400
        and "every recorded create of this shape" in used_up.headers["x-mock-problem"]
    )


async def test_the_control_plane_loads_shows_and_clears_a_recording() -> None:
    async with client(make_app()) as http:
        empty = (await http.get("/__mock/replay")).json()
        loaded = await http.post("/__mock/replay", json=recorded.har(*recorded.lifecycle()))
        created = (await http.post(EVOLINK_CREATE, headers=AUTH, json=body())).json()
        nothing = await http.post("/__mock/replay", json=recorded.har())
        cleared = (await http.delete("/__mock/replay")).json()
        faked = (await http.post(EVOLINK_CREATE, headers=AUTH, json=body())).json()
    assert empty == {"replaying": False, "strict": False, "creates": 0, "shapes": 0, "answers": 0}
    assert loaded.status_code == 201 and loaded.json()["creates"] == 1 and loaded.json()["replaying"]
    assert created["task_info"]["estimated_time"] == 140
    assert nothing.status_code == 400
    assert cleared["replaying"] is False and faked["task_info"]["estimated_time"] == 79


async def test_a_reset_replays_the_recording_from_its_start(tmp_path: Path) -> None:
    app = make_app(replay=(saved(tmp_path, *recorded.lifecycle()),))
    async with client(app) as http:
        first = (await http.post(EVOLINK_CREATE, headers=AUTH, json=body())).json()
        await http.post("/__mock/reset")
        again = (await http.post(EVOLINK_CREATE, headers=AUTH, json=body())).json()
    assert first["task_info"]["estimated_time"] == again["task_info"]["estimated_time"] == 140


async def test_with_a_shared_store_recordings_are_loaded_at_start_not_through_the_control_plane(
    redis_url: str,
) -> None:
    from mockserver import create_app
    from mockserver.store.redis import RedisStore
    from tests.helpers import make_settings

    app = create_app(make_settings(store=redis_url), store=RedisStore(redis_url))
    async with client(app) as http:
        refused = await http.post("/__mock/replay", json=recorded.har(*recorded.lifecycle()))
    assert refused.status_code == 409 and "--replay" in refused.json()["error"]["message"]
