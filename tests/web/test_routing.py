"""Each provider's routing rules, as its real gateway routes: the AI/ML API (NestJS on Express)
matches paths in any case and serves a trailing slash; EvoLink (Gin) is case-sensitive and
redirects a trailing slash; a path no route serves answers in its owner's envelope."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.helpers import AIMLAPI_PATH, AUTH, EVOLINK_CREATE, aimlapi_body, client, evolink_body, make_app

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "path", ["/V2/Video/Generations", "/v2/video/generations/", "/V2/VIDEO/generations/"]
)
async def test_aimlapi_serves_its_routes_in_any_case_and_with_a_trailing_slash(path: str) -> None:
    async with client(make_app()) as http:
        created = await http.post(path, headers=AUTH, json=aimlapi_body())
        assert created.status_code == 200 and created.json()["status"] == "queued"
        query = f"{path}?generation_id={quote(created.json()['id'], safe='')}"
        fetched = await http.get(query, headers=AUTH)
    assert fetched.status_code == 200 and fetched.json()["id"] == created.json()["id"]


async def test_aimlapi_errors_on_a_folded_path_keep_the_path_as_sent() -> None:
    async with client(make_app()) as http:
        invalid = await http.post("/V2/video/generations", headers=AUTH, json=aimlapi_body(prompt=None))
        unknown = await http.get("/V2/Nothing", headers=AUTH)
        wrong_method = await http.put("/V2/Video/Generations", headers=AUTH)
    assert invalid.status_code == 400 and invalid.json()["path"] == "/V2/video/generations"
    assert unknown.status_code == 404 and unknown.json()["message"] == "Cannot GET /V2/Nothing"
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "GET, HEAD, POST"
    assert wrong_method.json()["message"] == "Cannot PUT /V2/Video/Generations"


@pytest.mark.parametrize("prefix", ["", "/apiv1"])
async def test_evolink_redirects_a_trailing_slash_post_with_an_empty_307(prefix: str) -> None:
    async with client(make_app()) as http:
        response = await http.post(f"{prefix}{EVOLINK_CREATE}/", headers=AUTH, json=evolink_body())
        tasks = (await http.get("/__mock/tasks")).json()
    assert response.status_code == 307 and response.content == b""
    assert response.headers["location"] == f"{prefix}{EVOLINK_CREATE}"
    assert tasks["tasks"] == []  # nothing was created


async def test_evolink_redirects_a_trailing_slash_get_with_a_301_keeping_the_query() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        response = await http.get(f"/v1/tasks/{task['id']}/?lang=en", headers=AUTH)
    location = f"/v1/tasks/{task['id']}?lang=en"
    assert response.status_code == 301 and response.headers["location"] == location
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.text == f'<a href="{location}">Moved Permanently</a>.\n\n'


@pytest.mark.parametrize(("style", "code"), [("seed", 404), ("current", "")])
async def test_evolink_unknown_routes_answer_invalid_url_and_its_paths_are_case_sensitive(
    style: str, code: int | str
) -> None:
    async with client(make_app(evolink_errors=style)) as http:
        unknown = await http.post("/v1/videos/generate", headers=AUTH, json=evolink_body())
        upper = await http.post("/V1/videos/generations", headers=AUTH, json=evolink_body())
        no_route_for_slash = await http.get("/v1/videos/generations/", headers=AUTH)
    assert unknown.status_code == 404
    assert unknown.json() == {
        "error": {
            "code": code,
            "message": "Invalid URL (POST /v1/videos/generate)",
            "type": "invalid_request_error",
        }
    }
    assert upper.status_code == 404  # no evolink route: the path is not served in another case
    # a trailing slash is redirected only where the method has a route
    assert no_route_for_slash.status_code == 404
    assert no_route_for_slash.json()["error"]["message"] == "Invalid URL (GET /v1/videos/generations/)"


async def test_a_redirect_is_journaled_under_its_provider() -> None:
    async with client(make_app()) as http:
        await http.post(f"{EVOLINK_CREATE}/", headers=AUTH, json=evolink_body())
        journal = (await http.get("/__mock/requests")).json()
    [entry] = journal["requests"]
    assert (entry["provider"], entry["operation"], entry["status"]) == ("evolink", None, 307)


async def test_exact_paths_still_win_over_folded_ones() -> None:
    async with client(make_app()) as http:
        response = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body())
    assert response.status_code == 200
