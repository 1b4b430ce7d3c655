"""AI/ML API: an invalid body answers 400 naming the field; what the docs allow is accepted."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import AIMLAPI_PATH, AUTH, aimlapi_body, client, evolink_body, make_app
from tests.vendor import needs_vendor, vendor_create_request

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


@pytest.mark.parametrize(("case", "body", "field"), AIMLAPI_CASES, ids=[c[0] for c in AIMLAPI_CASES])
async def test_aimlapi_rejects_a_bad_body_naming_the_field(
    case: str, body: dict[str, Any], field: str
) -> None:
    async with client(make_app()) as http:
        response = await http.post(AIMLAPI_PATH, headers=AUTH, json=body)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("Body validation error\n") and f"\n{field}: " in message


@pytest.mark.parametrize("duration", [5, 10, "5", "10"])
async def test_aimlapi_accepts_duration_as_number_or_string(duration: object) -> None:
    async with client(make_app()) as http:
        response = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(duration=duration))
    assert (
        response.status_code == 200
        and response.json()["meta"]["usage"]["credits_used"] == int(duration) * 224_000
    )


async def test_aimlapi_accepts_base64_data_uris_and_a_last_frame() -> None:
    data = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGA"
        "WjR9awAAAABJRU5ErkJggg=="
    )
    async with client(make_app()) as http:
        response = await http.post(
            AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(image_url=data, last_image_url=data)
        )
    assert response.status_code == 200


ZOD_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("required", aimlapi_body(prompt=None), "prompt: Required"),
    ("enum", aimlapi_body(duration="7"), "duration: Invalid enum value. Expected 5 | 10, received '7'"),
    (
        "enum number",
        aimlapi_body(duration=7.0),
        "duration: Invalid enum value. Expected 5 | 10, received '7'",
    ),
    (
        "enum of strings given a number",
        aimlapi_body(model=5),
        "model: Expected 'klingai/video-o1-image-to-video', received number",
    ),
    ("type", aimlapi_body(prompt=["a"]), "prompt: Expected string, received array"),
    (
        "null",
        {**aimlapi_body(), "last_image_url": None},
        "last_image_url: Expected string, received null",
    ),
    ("too long", aimlapi_body(prompt="x" * 2600), "prompt: String must contain at most 2500 character(s)"),
    ("not a url", aimlapi_body(image_url="no url"), "image_url: Invalid url"),
]


@pytest.mark.parametrize(("case", "body", "line"), ZOD_CASES, ids=[c[0] for c in ZOD_CASES])
async def test_aimlapi_400_details_are_zod_messages_naming_the_field(
    case: str, body: dict[str, Any], line: str
) -> None:
    async with client(make_app()) as http:
        response = await http.post(AIMLAPI_PATH, headers=AUTH, json=body)
    message = response.json()["message"]
    assert response.status_code == 400 and message.startswith("Body validation error\n")
    assert line in message.split("\n")[1:]
    for words in ("is not one of", "candidates", "is a required property", "is longer than", '"'):
        assert words not in message


async def test_aimlapi_caps_an_echoed_value_and_never_echoes_a_long_prompt() -> None:
    long_model = "m" * 2600
    async with client(make_app()) as http:
        response = await http.post(
            AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(model=long_model, prompt="p" * 2600)
        )
    message = response.json()["message"]
    assert f"received '{'m' * 61}...'" in message
    assert "p" * 64 not in message and len(message) < 300


@needs_vendor
async def test_aimlapi_enum_details_list_exactly_the_vendor_files_values() -> None:
    properties = vendor_create_request()["properties"]
    expected = {
        "model": " | ".join(f"'{v}'" for v in properties["model"]["enum"]),
        "duration": " | ".join(str(v) for v in properties["duration"]["enum"]),
    }
    async with client(make_app()) as http:
        response = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(model="x", duration=3))
    lines = response.json()["message"].split("\n")
    assert f"duration: Invalid enum value. Expected {expected['duration']}, received '3'" in lines
    assert f"model: Invalid enum value. Expected {expected['model']}, received 'x'" in lines


async def test_a_bad_testing_aid_keeps_the_fakes_own_words() -> None:
    async with client(make_app()) as http:
        fault = await http.post(AIMLAPI_PATH, headers={**AUTH, "X-Mock-Fault": "418"}, json=aimlapi_body())
        fail = await http.post(AIMLAPI_PATH, headers={**AUTH, "X-Mock-Fail": "no such!"}, json=aimlapi_body())
    assert fault.json()["message"] == (
        "Body validation error\nX-Mock-Fault: '418' is not one of "
        "400, 401, 403, 404, 413, 429, 500, 502, 503, 504"
    )
    assert (
        fail.json()["message"]
        == "Body validation error\nX-Mock-Fail: 'no such!' is not a failure code aimlapi reports"
    )
