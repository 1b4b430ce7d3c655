"""What both lifecycles share: failure triggers and result expiry."""

from __future__ import annotations

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
