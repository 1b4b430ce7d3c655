"""EvoLink: an invalid body answers 400 naming the field (an unknown model, the seed's 404)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import AUTH, EVOLINK_CREATE, aimlapi_body, client, evolink_body, make_app

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


@pytest.mark.parametrize(("case", "body", "field"), EVOLINK_CASES, ids=[c[0] for c in EVOLINK_CASES])
async def test_evolink_rejects_a_bad_body_naming_the_field(
    case: str, body: dict[str, Any], field: str
) -> None:
    async with client(make_app()) as http:
        response = await http.post(EVOLINK_CREATE, headers=AUTH, json=body)
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": 400,
            "message": "Invalid request parameter",
            "type": "invalid_request_error",
            "param": field,
        }
    }


async def test_evolink_unknown_model_is_the_seed_404_naming_model() -> None:
    async with client(make_app()) as http:
        response = await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(model="kling-v9"))
    assert response.status_code == 404 and response.json()["error"]["param"] == "model"
