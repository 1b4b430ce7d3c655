"""Every error status from the fake surfaces as its exception with the documented fields (both
evolink styles); images are checked before sending; configuration comes from the environment."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

import client
from client import (
    AimlapiClient,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    EvolinkClient,
    GatewayTimeoutError,
    InsufficientQuotaError,
    InternalServerError,
    InvalidImageError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    ServiceUnavailableError,
    VideoGenError,
)
from client._exceptions import APIStatusError
from mockserver.transport import SyncASGITransport
from tests.helpers import KEY, make_app

EXCEPTIONS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientQuotaError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
    500: InternalServerError,
    502: BadGatewayError,
    503: ServiceUnavailableError,
    504: GatewayTimeoutError,
}
NO_RETRY = RetryPolicy(max_retries=0)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
IMAGE = "https://example.com/a.jpg"


def evolink(app: Any) -> EvolinkClient:
    return EvolinkClient(KEY, base_url="http://fake.test", transport=SyncASGITransport(app), retry=NO_RETRY)


@pytest.mark.parametrize(
    ("style", "status"),
    [("seed", s) for s in (400, 401, 402, 403, 404, 429, 500, 502, 503)]
    + [("current", s) for s in (400, 401, 402, 403, 429, 500)],  # the statuses each style documents
)
def test_every_evolink_error_surfaces_as_its_exception_with_the_documented_fields(
    style: str, status: int
) -> None:
    app = make_app(evolink_errors=style)
    with evolink(app) as videos, pytest.raises(EXCEPTIONS[status]) as caught:
        videos.create(f"a cat [mock:fault={status}]", IMAGE)
    error = caught.value
    documented = (
        app.state.mock.specs["evolink"].operations["createVideoGeneration"].example_body(status, style)
    )
    assert error.status_code == status
    assert error.code == documented["error"]["code"]  # int in the seed style, str in the current one
    assert error.type == documented["error"]["type"] and error.message == documented["error"]["message"]
    assert error.param == documented["error"].get("param")
    suggestion = documented["error"].get("fallback_suggestion")
    if status == 429 and suggestion is not None:  # it says what Retry-After says (1 s injected)
        suggestion = "retry after 1 second"
    assert error.fallback_suggestion == suggestion
    if status == 429:
        assert error.retry_after == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503, 504])
def test_every_aimlapi_error_surfaces_with_its_request_id(status: int) -> None:
    app = make_app()
    transport = SyncASGITransport(app)
    with AimlapiClient(KEY, base_url="http://fake.test", transport=transport, retry=NO_RETRY) as videos:
        task = videos.create("Mona Lisa", IMAGE)
        control = httpx.Client(transport=transport, base_url="http://fake.test")  # shares the transport
        control.post(
            "/__mock/faults", json={"operation": "getGeneration", "status": status}
        ).raise_for_status()
        with pytest.raises(EXCEPTIONS[status]) as caught:
            videos.get(task)
    error = caught.value
    assert error.status_code == status and error.code == status
    assert error.request_id and len(error.request_id) == 36
    assert error.body["path"] == "/v2/video/generations"


@pytest.mark.sends_invalid_requests  # a 5001-character prompt, to see the provider's 400
def test_natural_errors_carry_param_and_message() -> None:
    app = make_app(credits=7)
    with evolink(app) as videos:
        videos.create("one", IMAGE)
        with pytest.raises(InsufficientQuotaError):
            videos.create("two", IMAGE)
        with pytest.raises(BadRequestError) as bad:
            videos.create("x" * 5001, IMAGE)
        with pytest.raises(NotFoundError) as missing:
            videos.get("task-unified-1767225600-zzzzzzzz")
    assert bad.value.param == "prompt" and missing.value.message == "Task not found or expired"


def test_local_files_and_bytes_become_data_uris_for_aimlapi(tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    path.write_bytes(PNG)
    with respx.mock(base_url="https://api.aimlapi.com") as mock:
        route = mock.post("/v2/video/generations").mock(
            return_value=httpx.Response(200, json={"id": "g1", "status": "queued"})
        )
        with AimlapiClient("k") as videos:
            videos.create("x", path, last_image=PNG)
    sent = route.calls[0].request.read()
    expected = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert expected.encode() in sent and sent.count(b"data:image/png") == 2


@pytest.mark.parametrize(
    ("image", "provider", "message"),
    [
        (b"GIF89a" + b"\x00" * 20, "aimlapi", "not a JPEG, PNG or WebP"),
        (b"\xff\xd8\xff" + b"\x00" * (10 * 1024 * 1024), "aimlapi", "the limit is 10 MB"),
        (PNG, "evolink", "takes image URLs"),
        ("data:image/png;base64,@@@", "aimlapi", "not valid base64"),
        ("/no/such/file.png", "aimlapi", "not a URL or an existing file"),
    ],
)
def test_images_the_provider_would_refuse_are_refused_before_sending(
    image: Any, provider: str, message: str
) -> None:
    with respx.mock(assert_all_called=False) as mock:
        route = mock.route().mock(return_value=httpx.Response(500))
        cls = AimlapiClient if provider == "aimlapi" else EvolinkClient
        with cls("k") as videos, pytest.raises(InvalidImageError, match=message):
            videos.create("x", image)
    assert route.call_count == 0


def test_configuration_comes_from_the_providers_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIML_API_KEY", "aiml-secret")
    monkeypatch.setenv("AIML_API_BASE", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("EVOLINK_API_KEY", "evo-secret")
    monkeypatch.setenv("EVOLINK_BASE_URL", "http://127.0.0.1:9/apiv1/")
    with AimlapiClient() as aiml, EvolinkClient() as evo:
        assert (aiml.api_key, aiml.base_url) == ("aiml-secret", "http://127.0.0.1:9")
        assert (evo.api_key, evo.base_url) == ("evo-secret", "http://127.0.0.1:9/apiv1")
    monkeypatch.delenv("EVOLINK_API_KEY")
    with pytest.raises(VideoGenError, match="EVOLINK_API_KEY"):
        EvolinkClient()


def test_provider_options_that_do_not_exist_are_refused() -> None:
    with AimlapiClient("k") as videos:
        with pytest.raises(ValueError, match="aspect ratio"):
            videos.create("x", IMAGE, aspect_ratio="9:16")
        with pytest.raises(ValueError, match="callback_url"):
            videos.create("x", IMAGE, callback_url="https://example.com/hook")


def test_the_public_names_are_all_exported() -> None:
    exported = set(client.__all__)
    public = {n for n in dir(client) if not n.startswith("_") and n[0].isupper()}
    assert public <= exported and all(hasattr(client, n) for n in exported)
