"""AI/ML API lifecycle end to end over HTTP, in-process, on a manual clock."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.helpers import (
    AIMLAPI_PATH,
    AUTH,
    advance,
    aimlapi_body,
    client,
    make_app,
)
from tests.media import probe
from tests.vendor import needs_seeds, seed_text

pytestmark = pytest.mark.anyio


async def test_aimlapi_generation_runs_queued_generating_completed_with_a_video_url() -> None:
    async with client(make_app()) as http:
        created = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(duration="10"))
        assert created.status_code == 200
        generation = created.json()
        assert generation["status"] == "queued" and generation["meta"] == {
            "usage": {"credits_used": 2_240_000}
        }
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
        # aimlapi takes no aspect ratio: its videos are 16:9
        assert found.duration == pytest.approx(10, abs=0.1) and found.aspect_ratio == "16:9"
        assert (found.width, found.height) == (1920, 1080)  # as the model's page shows


async def test_aimlapi_create_can_answer_201_like_the_generated_specs() -> None:
    async with client(make_app(aimlapi_create_status=201)) as http:
        response = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
    assert response.status_code == 201 and response.json()["status"] == "queued"


@needs_seeds
async def test_aimlapi_result_has_the_size_the_seed_document_shows() -> None:
    shown = re.search(r"Generated video \((\d+)x(\d+)", seed_text("klingai/video-o1-image-to-video"))
    assert shown is not None
    async with client(make_app()) as http:
        created = (await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())).json()
        await advance(http, 80)
        query = f"{AIMLAPI_PATH}?generation_id={quote(created['id'], safe='')}"
        body = (await http.get(query, headers=AUTH)).json()
        found = probe((await http.get(body["video"]["url"])).content)
    assert (found.width, found.height) == (int(shown.group(1)), int(shown.group(2)))
