"""Image inputs the real services' workers cannot use (a GIF, an ftp or loopback URL, an
unreachable host, an over-large or non-image data: URI): the create is accepted and the task
fails when its run starts, with each provider's business code. Nothing is fetched."""

from __future__ import annotations

import base64
import re
from typing import Any
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
from tests.vendor import needs_vendor, vendor

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
GIF = b"GIF89a" + b"\x00" * 32


def data_uri(content: bytes, media: str = "image/png") -> str:
    return f"data:{media};base64,{base64.b64encode(content).decode()}"


OVER_10_MB = "data:image/png;base64," + base64.b64encode(PNG).decode() + "A" * (14 * 1024 * 1024)
UNREACHABLE = (
    "Image processing error.\nThe image URL is not accessible: use a public http(s) URL that "
    "downloads the image directly."
)
UNSUPPORTED = "Invalid parameters.\nunsupported file type: use .jpg, .jpeg, .png or .webp."
EVOLINK_CASES = [
    ("https://example.com/cat.gif", "invalid_parameters", UNSUPPORTED),
    ("https://example.com/cat.GIF?size=big", "invalid_parameters", UNSUPPORTED),
    ("ftp://example.com/cat.jpg", "image_processing_error", UNREACHABLE),
    ("https://127.0.0.1/cat.jpg", "image_processing_error", UNREACHABLE),
    ("https://[::1]/cat.jpg", "image_processing_error", UNREACHABLE),
    ("https://localhost/cat.jpg", "image_processing_error", UNREACHABLE),
    ("https://192.168.1.20/cat.jpg", "image_processing_error", UNREACHABLE),
    ("https://169.254.169.254/latest/meta-data", "image_processing_error", UNREACHABLE),
    ("https://cdn.invalid/cat.jpg", "image_processing_error", UNREACHABLE),
    (
        "https://example.com/cat.heic",
        "image_processing_error",
        "Image processing error.\nThe image could not be decoded: use JPG, PNG or WebP.",
    ),
    (OVER_10_MB, "invalid_parameters", "Invalid parameters.\nfile size exceeds 10MB."),
]


async def evolink_outcome(image: str) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The create answer, the task just before its run starts, and just after."""
    async with client(make_app()) as http:
        body = evolink_body(image_urls=["https://example.com/first.jpg", image])
        created = await http.post(EVOLINK_CREATE, headers=AUTH, json=body)
        assert created.status_code == 200, created.text
        task_id = created.json()["id"]
        await advance(http, 1.9)
        before = (await http.get(f"/v1/tasks/{task_id}", headers=AUTH)).json()
        await advance(http, 0.1)
        after = (await http.get(f"/v1/tasks/{task_id}", headers=AUTH)).json()
    return created.json(), before, after


@pytest.mark.parametrize(("image", "code", "message"), EVOLINK_CASES, ids=[c[0][:40] for c in EVOLINK_CASES])
async def test_evolink_accepts_an_unusable_image_then_fails_the_task_when_its_run_starts(
    image: str, code: str, message: str
) -> None:
    created, before, after = await evolink_outcome(image)
    assert created["status"] == "pending" and before["status"] == "pending"
    assert after["status"] == "failed" and after["progress"] == 0 and "results" not in after
    assert after["error"] == {"code": code, "type": "task_error", "message": message}


@pytest.mark.parametrize(
    "image",
    [
        "https://example.com/cat.jpg",
        "https://example.com/cat.webp",
        "https://example.com/image?id=3",
        data_uri(PNG),
        data_uri(b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg"),
        data_uri(b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "image/webp"),
    ],
)
async def test_evolink_images_it_can_use_run_to_completion(image: str) -> None:
    async with client(make_app()) as http:
        created = (
            await http.post(EVOLINK_CREATE, headers=AUTH, json=evolink_body(image_urls=[image]))
        ).json()
        await advance(http, 80)
        done = (await http.get(f"/v1/tasks/{created['id']}", headers=AUTH)).json()
    assert done["status"] == "completed"


@needs_vendor
@pytest.mark.parametrize("era", ["2026-01-20", "2026-03-10"])
async def test_evolink_takes_exactly_the_formats_the_vendor_file_lists(era: str) -> None:
    schema = vendor(f"evolink-kling-o1-image-to-video.{era}.json")["components"]["schemas"]
    description = schema["VideoGenerationRequest"]["properties"]["image_urls"]["description"]
    listed = sorted(set(re.findall(r"`\.(\w+)`", description)))
    assert listed == ["jpeg", "jpg", "png", "webp"] and "10MB" in description
    async with client(make_app()) as http:
        for extension in [*listed, "gif"]:
            body = evolink_body(image_urls=[f"https://example.com/frame.{extension}"])
            created = (await http.post(EVOLINK_CREATE, headers=AUTH, json=body)).json()
            await advance(http, 2)
            task = (await http.get(f"/v1/tasks/{created['id']}", headers=AUTH)).json()
            assert (task["status"] == "failed") == (extension not in listed), extension


AIMLAPI_CASES = [
    (
        {"image_url": "https://example.com/mona.gif"},
        "image_load_error",
        "Could not load image_url as an image: use JPEG, PNG or WebP.",
    ),
    (
        {"image_url": data_uri(GIF, "image/gif")},
        "image_load_error",
        "Could not load image_url as an image: use JPEG, PNG or WebP.",
    ),
    (
        {"image_url": "data:image/png;base64,bm90IGFuIGltYWdl"},
        "image_load_error",
        "Could not load image_url as an image: use JPEG, PNG or WebP.",
    ),
    (
        {"last_image_url": "ftp://example.com/last.png"},
        "file_download_error",
        "Could not download last_image_url: it must be a public http(s) URL.",
    ),
    (
        {"image_url": "http://10.0.0.7/mona.jpg"},
        "file_download_error",
        "Could not download image_url: it must be a public http(s) URL.",
    ),
    (
        {"image_url": "https://images.invalid/mona.jpg"},
        "file_download_error",
        "Could not download image_url: it must be a public http(s) URL.",
    ),
    ({"image_url": OVER_10_MB}, "file_too_large", "image_url is larger than 10 MB."),
]


@pytest.mark.parametrize(
    ("fields", "name", "message"), AIMLAPI_CASES, ids=[str(c[0])[:40] for c in AIMLAPI_CASES]
)
async def test_aimlapi_accepts_an_unusable_image_then_the_generation_ends_in_error(
    fields: dict[str, str], name: str, message: str
) -> None:
    async with client(make_app()) as http:
        created = await http.post(AIMLAPI_PATH, headers=AUTH, json=aimlapi_body(**fields))
        assert created.status_code == 200, created.text
        query = f"{AIMLAPI_PATH}?generation_id={quote(created.json()['id'], safe='')}"
        await advance(http, 1.9)
        before = (await http.get(query, headers=AUTH)).json()
        await advance(http, 0.1)
        after = (await http.get(query, headers=AUTH)).json()
    assert before["status"] == "queued"
    assert after["status"] == "error" and after["video"] is None
    assert after["error"] == {"name": name, "message": message}


async def test_a_directive_fail_still_applies_when_the_images_are_usable() -> None:
    async with client(make_app()) as http:
        body = evolink_body(prompt="a cat [mock:fail=content_policy_violation]")
        created = (await http.post(EVOLINK_CREATE, headers=AUTH, json=body)).json()
        await advance(http, 80)
        task = (await http.get(f"/v1/tasks/{created['id']}", headers=AUTH)).json()
    assert task["error"]["code"] == "content_policy_violation"
