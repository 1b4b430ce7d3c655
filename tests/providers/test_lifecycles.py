"""Both lifecycles end to end over HTTP, in-process, with a manual clock; the MP4 plays."""

from __future__ import annotations

from urllib.parse import quote

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
from tests.media import probe

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(("duration", "aspect_ratio"), [(5, "16:9"), (10, "9:16"), (5, "1:1")])
async def test_evolink_task_runs_pending_processing_completed_and_the_mp4_plays(
    duration: int, aspect_ratio: str
) -> None:
    async with client(make_app()) as http:
        created = await http.post(
            EVOLINK_CREATE, headers=AUTH, json=evolink_body(duration=duration, aspect_ratio=aspect_ratio)
        )
        assert created.status_code == 200
        task = created.json()
        assert task["status"] == "pending" and task["progress"] == 0
        assert task["usage"] == {
            "billing_rule": "per_call",
            "credits_reserved": duration * 7 // 5,
            "user_group": "default",
        }
        statuses, progress, etas = [], [], []
        for _ in range(100):
            body = (await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)).json()
            statuses.append(body["status"])
            progress.append(body["progress"])
            if body["status"] == "completed":
                break
            etas.append(body["task_info"]["estimated_time"])
            assert "results" not in body
            await advance(http, 1)
        assert statuses[0] == "pending" and "processing" in statuses and statuses[-1] == "completed"
        order = ["pending", "processing", "completed"]
        assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)
        assert progress[0] == 0 and progress[-1] == 100 and progress == sorted(progress)
        assert etas == sorted(etas, reverse=True) and etas[0] == 79
        assert body["task_info"]["can_cancel"] is False and "estimated_time" not in body["task_info"]
        [url] = body["results"]
        video = await http.get(url)
        assert video.status_code == 200 and video.headers["content-type"] == "video/mp4"
        found = probe(video.content)
        assert found.duration == pytest.approx(duration, abs=0.1)
        assert found.aspect_ratio == aspect_ratio and found.frames > 0 and found.codec == "h264"


async def test_aimlapi_generation_runs_queued_generating_completed_with_a_video_url() -> None:
    async with client(make_app()) as http:
        created = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(duration="10"))
        assert created.status_code == 200
        generation = created.json()
        assert generation["status"] == "queued" and generation["meta"] == {"usage": {"credits_used": 14}}
        assert generation["id"].endswith(":klingai/video-o1-image-to-video")
        query = f"{AIMLAPI_PATH}?generation_id={quote(generation['id'], safe='')}"
        seen = []
        for _ in range(100):
            body = (await http.get(query, headers=AUTH)).json()
            seen.append(body["status"])
            if body["status"] == "completed":
                break
            assert body["video"] is None and body["error"] is None
            await advance(http, 1)
        assert seen[0] == "queued" and seen[-1] == "completed" and "generating" in seen
        assert set(seen) == {"queued", "generating", "completed"}
        video = await http.get(body["video"]["url"])
        found = probe(video.content)
        assert found.duration == pytest.approx(10, abs=0.1) and found.aspect_ratio == "16:9"  # D14


async def test_aimlapi_create_can_answer_201_like_the_generated_specs() -> None:
    async with client(make_app(aimlapi_create_status=201)) as http:
        response = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
    assert response.status_code == 201 and response.json()["status"] == "queued"


async def test_a_task_ends_failed_by_header_or_prompt_directive() -> None:
    async with client(make_app()) as http:
        by_header = await http.post(
            EVOLINK_CREATE, headers={**AUTH, "X-Mock-Fail": "content_policy_violation"}, json=evolink_body()
        )
        by_prompt = await http.post(
            EVOLINK_CREATE, headers=AUTH, json=evolink_body(prompt="a cat [mock:fail=generation_timeout]")
        )
        aiml = await http.post(
            AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(prompt="x [mock:fail=GenerationError]")
        )
        await advance(http, 78)
        assert (await http.get(f"/v1/tasks/{by_header.json()['id']}", headers=AUTH)).json()[
            "status"
        ] == "processing"
        await advance(http, 1)
        failed = (await http.get(f"/v1/tasks/{by_header.json()['id']}", headers=AUTH)).json()
        assert failed["status"] == "failed" and "results" not in failed
        assert (
            failed["error"]["code"] == "content_policy_violation" and failed["error"]["type"] == "task_error"
        )
        other = (await http.get(f"/v1/tasks/{by_prompt.json()['id']}", headers=AUTH)).json()
        assert other["error"]["code"] == "generation_timeout"
        aiml_body = (
            await http.get(AIMLAPI_PATH, params={"generation_id": aiml.json()["id"]}, headers=AUTH)
        ).json()
        assert aiml_body["status"] == "error" and aiml_body["video"] is None
        assert aiml_body["error"] == {
            "name": "GenerationError",
            "message": "Generation failed: GenerationError",
        }


async def test_the_mirror_base_url_form_works_unchanged() -> None:
    async with client(make_app(), base_url="http://fake.test/apiv1") as http:
        created = await http.post("v1/videos/generations", headers=AUTH, json=evolink_body())
        assert created.status_code == 200
        detail = await http.get(f"v1/tasks/{created.json()['id']}", headers=AUTH)
        assert detail.status_code == 200 and detail.json()["id"] == created.json()["id"]


async def test_result_urls_expire_24_hours_after_completion() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        await advance(http, 79)
        [url] = (await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)).json()["results"]
        head = await http.head(url)
        assert head.status_code == 200 and head.headers["accept-ranges"] == "bytes"
        part = await http.get(url, headers={"Range": "bytes=0-9"})
        assert part.status_code == 206 and len(part.content) == 10
        await advance(http, 86400 - 1)
        assert (await http.get(url)).status_code == 200
        await advance(http, 1)
        gone = await http.get(url)
        assert gone.status_code == 404 and gone.headers["content-type"] == "application/json"
        assert gone.json()["error"]["code"] == "not_found"
