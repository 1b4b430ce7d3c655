"""The pipeline's answers to requests before any handler: malformed or over-large bodies, wrong
content types, bad parameters and unknown routes, each in the provider's envelope."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.web import pipeline
from tests.helpers import AIMLAPI_PATH, AUTH, EVOLINK_CREATE, aimlapi_body, client, evolink_body, make_app

pytestmark = pytest.mark.anyio

LONG = "x" * 5001
EVOLINK_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("no prompt", evolink_body(prompt=None), "prompt"),
    ("no images", evolink_body(image_urls=None), "image_urls"),
    ("zero images", evolink_body(image_urls=[]), "image_urls"),
    ("three images", evolink_body(image_urls=["https://a.example/1.jpg"] * 3), "image_urls"),
    ("image not a uri", evolink_body(image_urls=["not a uri"]), "image_urls"),
    ("image not a string", evolink_body(image_urls=[42]), "image_urls"),
    ("prompt too long", evolink_body(prompt=LONG), "prompt"),
    ("prompt not a string", evolink_body(prompt=["a"]), "prompt"),
    ("aspect ratio", evolink_body(aspect_ratio="4:3"), "aspect_ratio"),
    ("duration 7", evolink_body(duration=7), "duration"),
    ("duration as string", evolink_body(duration="5"), "duration"),
    ("callback http", evolink_body(callback_url="http://example.com/hook"), "callback_url"),
    ("callback too long", evolink_body(callback_url="https://example.com/" + "a" * 2040), "callback_url"),
    ("callback not a uri", evolink_body(callback_url="not a url"), "callback_url"),
    ("no model", evolink_body(model=None), "model"),
]
AIMLAPI_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("no prompt", aimlapi_body(prompt=None), "prompt"),
    ("no image", aimlapi_body(image_url=None), "image_url"),
    ("image not a uri", aimlapi_body(image_url="nope"), "image_url"),
    ("last image not a uri", aimlapi_body(last_image_url="nope"), "last_image_url"),
    ("prompt too long", aimlapi_body(prompt="x" * 2501), "prompt"),
    ("duration 7", aimlapi_body(duration=7), "duration"),
    ("duration '7'", aimlapi_body(duration="7"), "duration"),
    ("model", aimlapi_body(model="kling-o1-image-to-video"), "model"),
]


REQUIRED = "Body validation error\nimage_url: Required\nmodel: Required\nprompt: Required"


@pytest.mark.parametrize(
    ("content", "headers", "aimlapi_message"),
    [
        (b'{"model": ', {"Content-Type": "application/json"}, "Unexpected end of JSON input"),
        (b'{bad": 1}', {"Content-Type": "application/json"}, "Unexpected token b in JSON at position 1"),
        (b"\xff\xfe", {"Content-Type": "application/json"}, "Unexpected token \ufffd in JSON at position 0"),
        # Express parses no body from a request that is not JSON: Zod sees an empty object
        (b"model=x", {"Content-Type": "application/x-www-form-urlencoded"}, REQUIRED),
        (b'{"a": 1}', {"Content-Type": "text/plain"}, REQUIRED),
        (b"", {"Content-Type": "application/json"}, REQUIRED),
        (
            b"[1, 2]",
            {"Content-Type": "application/json"},
            "Body validation error\nbody: Expected object, received array",
        ),
    ],
)
async def test_malformed_bodies_and_wrong_content_types_answer_400_in_both_envelopes(
    content: bytes, headers: dict[str, str], aimlapi_message: str
) -> None:
    async with client(make_app()) as http:
        evolink = await http.post(EVOLINK_CREATE, headers={**AUTH, **headers}, content=content)
        aiml = await http.post(AIMLAPI_PATH, headers={**AUTH, **headers}, content=content)
    assert evolink.status_code == 400 and evolink.json()["error"]["param"] == "body"
    assert aiml.status_code == 400 and aiml.json()["message"] == aimlapi_message
    assert "Expecting" not in aiml.text and "line 1 column" not in aiml.text  # no Python parser text


async def test_an_over_large_body_is_413_in_the_envelope_and_two_10mb_images_fit() -> None:
    image = "data:image/png;base64," + "A" * (10 * 1024 * 1024 * 4 // 3)
    async with client(make_app()) as http:
        fits = await http.post(
            AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(image_url=image, last_image_url=image)
        )
        huge = b'{"prompt": "' + b"x" * (33 * 1024 * 1024) + b'"}'
        evolink = await http.post(
            EVOLINK_CREATE, headers={**AUTH, "Content-Type": "application/json"}, content=huge
        )
        aiml = await http.post(
            AIMLAPI_PATH, headers={**AUTH, "Content-Type": "application/json"}, content=huge
        )
    assert fits.status_code == 200
    assert evolink.status_code == 413 and evolink.json()["error"]["param"] == "image_urls"
    assert aiml.status_code == 413 and aiml.json()["statusCode"] == 413


async def test_query_and_path_values_are_validated_naming_the_parameter() -> None:
    async with client(make_app()) as http:
        missing = await http.get(AIMLAPI_PATH, headers=AUTH)
        empty = await http.get(AIMLAPI_PATH, params={"generation_id": ""}, headers=AUTH)
        bad_id = await http.get("/v1/tasks/12345", headers=AUTH)
    assert missing.json()["message"] == "Query validation error\ngeneration_id: Required"
    assert empty.json()["message"] == (
        "Query validation error\ngeneration_id: String must contain at least 1 character(s)"
    )
    assert bad_id.status_code == 400 and bad_id.json()["error"]["param"] == "task_id"


async def test_values_found_valid_are_remembered_within_a_bound_and_never_vouch_for_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "VALID_PARAMS_KEPT", 3)
    app = make_app()
    async with client(app) as http:
        for attempt in range(2):  # the second round finds values of the first remembered
            for number in range(5):  # more than are kept: the memory is emptied and refilled
                missing = await http.get(f"/v1/tasks/task-unified-{number}-x", headers=AUTH)
                assert missing.status_code == 404, (attempt, number)
            bad = await http.get("/v1/tasks/12345", headers=AUTH)
            wrong_case = await http.get("/v1/tasks/Task-Unified-1-x", headers=AUTH)
            assert bad.status_code == wrong_case.status_code == 400
    remembered = app.router.match("GET", "/v1/tasks/x").endpoint._valid
    assert 0 < len(remembered) <= 3 and (("task_id", "task-unified-4-x"),) in remembered


@pytest.mark.parametrize(
    ("method", "path", "status", "check"),
    [
        ("GET", "/v1/nothing", 404, lambda b: b["error"]["code"] == 404),
        ("DELETE", "/v1/tasks/task-unified-1-x", 405, lambda b: b["error"]["code"] == 405),
        ("PUT", "/apiv1/v1/videos/generations", 405, lambda b: b["error"]["type"] == "invalid_request_error"),
        ("GET", "/v2/nothing", 404, lambda b: b["message"] == "Cannot GET /v2/nothing"),
        ("PUT", "/v2/video/generations", 405, lambda b: b["message"] == "Cannot PUT /v2/video/generations"),
        ("GET", "/__mock/nothing", 404, lambda b: b["error"]["code"] == "not_found"),
        ("GET", "/nothing", 404, lambda b: "error" in b),
    ],
)
async def test_router_level_404_and_405_answer_json_in_the_provider_envelope(
    method: str, path: str, status: int, check: Any
) -> None:
    async with client(make_app()) as http:
        response = await http.request(method, path, headers=AUTH)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert check(response.json())
    if status == 405:
        assert response.headers["allow"] in ("GET, HEAD, POST", "GET, HEAD", "POST")


DEEP = b'{"seconds": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
SURROGATES = [
    b'{"model": "\\ud800", "prompt": "x", "image_urls": ["https://example.com/a.jpg"]}',
    b'{"model": "kling-o1-image-to-video", "prompt": "x", "image_urls": ["https://example.com/\\ud800.jpg"]}',
    b'{"\\ud800": 1, "model": "kling-o1-image-to-video", "prompt": "x", "image_urls": ["https://e.com/a.jpg"]}',
]


@pytest.mark.parametrize("path", [EVOLINK_CREATE, "/__mock/clock/advance"])
async def test_json_nested_a_hundred_thousand_deep_is_a_400_not_a_500(path: str) -> None:
    async with client(make_app()) as http:
        response = await http.post(path, headers={**AUTH, "Content-Type": "application/json"}, content=DEEP)
        after = await http.get("/__mock/clock")
    assert response.status_code == 400 and after.status_code == 200


@pytest.mark.parametrize("body", SURROGATES, ids=["model", "image url", "property name"])
async def test_a_lone_surrogate_anywhere_in_a_body_is_a_400(body: bytes) -> None:
    async with client(make_app()) as http:
        response = await http.post(
            EVOLINK_CREATE, headers={**AUTH, "Content-Type": "application/json"}, content=body
        )
    assert response.status_code == 400 and response.json()["error"]["param"] == "body"


async def test_a_surrogate_in_a_forced_failure_is_refused_so_later_polls_still_answer() -> None:
    async with client(make_app()) as http:
        task = (await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body())).json()
        forced = await http.post(
            f"/__mock/tasks/{task['id']}/fail",
            content=b'{"code": "service_error", "message": "\\udfff"}',
            headers={"Content-Type": "application/json"},
        )
        poll = await http.get(f"/v1/tasks/{task['id']}", headers=AUTH)
    assert forced.status_code == 400 and poll.status_code == 200


@pytest.mark.parametrize(
    ("header", "prompt"),
    [
        ("\u00b2", "a cat"),  # superscript two: str.isdigit() says yes
        ("5\u0660\u0663", "a cat"),  # Arabic-Indic digits: int() reads them
        (None, "a cat [mock:fault=\u0664\u0660\u0663]"),
        (None, "[mock:fault=\uff15\uff10\uff13]"),  # fullwidth digits
    ],
)
async def test_fault_triggers_take_ascii_digits_only(header: str | None, prompt: str) -> None:
    headers: dict[str, str | bytes] = {**AUTH, "X-Mock-Fault": header.encode()} if header else dict(AUTH)
    async with client(make_app()) as http:
        response = await http.post(EVOLINK_CREATE, headers=headers, json=evolink_body(prompt=prompt))
    assert response.status_code == 400 and response.json()["error"]["code"] == 400
