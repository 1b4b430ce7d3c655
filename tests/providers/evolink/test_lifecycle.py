"""EvoLink lifecycle end to end over HTTP, in-process, on a manual clock; the MP4 plays."""

from __future__ import annotations

import pytest

from tests.helpers import (
    AUTH,
    EVOLINK_CREATE,
    advance,
    client,
    evolink_body,
    make_app,
)
from tests.media import probe

pytestmark = pytest.mark.anyio


DOCUMENTED_SIZES = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}


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
        # the documented output size, 1920x1080, and its portrait and square siblings
        assert (found.width, found.height) == DOCUMENTED_SIZES[aspect_ratio]
        assert len(video.content) < 10_000  # one still frame: a few kilobytes


async def test_the_mirror_base_url_form_works_unchanged() -> None:
    async with client(make_app(), base_url="http://fake.test/apiv1") as http:
        created = await http.post("v1/videos/generations", headers=AUTH, json=evolink_body())
        assert created.status_code == 200
        detail = await http.get(f"v1/tasks/{created.json()['id']}", headers=AUTH)
        assert detail.status_code == 200 and detail.json()["id"] == created.json()["id"]


async def test_a_whole_number_written_as_a_float_is_that_integer_throughout() -> None:
    async with client(make_app()) as http:
        created = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(duration=10.0))
        await advance(http, 80)
        done = (await http.get(f"/v1/tasks/{created.json()['id']}", headers=AUTH)).json()
        video = await http.get(done["results"][0])
    assert '"video_duration":10}' in created.text and created.json()["usage"]["credits_reserved"] == 14
    assert video.status_code == 200 and probe(video.content).duration == pytest.approx(10, abs=0.1)
