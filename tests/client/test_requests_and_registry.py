"""One request type behind both call forms of `create` and `generate` (and mypy checks the
options), and the provider registry that the clients and `videogen --provider` read."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner

from client import (
    AimlapiClient,
    AsyncAimlapiClient,
    AsyncClient,
    AsyncEvolinkClient,
    EvolinkClient,
    SyncClient,
    VideoGenError,
    VideoOptions,
    VideoRequest,
)
from client._providers import PROVIDERS
from client.cli import _client
from client.cli import main as videogen

ROOT = Path(__file__).resolve().parents[2]
IMAGE = "https://example.com/first.jpg"
LAST = "https://example.com/last.jpg"
RESULT = "https://cdn.example.com/v.mp4"
EVOLINK_ID = "task-unified-1767225600-abcdefgh"
# Spec-valid answers (the consumer contract checks them): the create, then a finished task.
ANSWERS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "evolink": (
        {
            "created": 1767225600,
            "id": EVOLINK_ID,
            "model": "kling-o1-image-to-video",
            "object": "video.generation.task",
            "progress": 0,
            "status": "pending",
            "task_info": {"can_cancel": True, "estimated_time": 79},
            "type": "video",
            "usage": {"billing_rule": "per_call", "credits_reserved": 7, "user_group": "default"},
        },
        {
            "created": 1767225600,
            "id": EVOLINK_ID,
            "model": "kling-o1-image-to-video",
            "object": "video.generation.task",
            "progress": 100,
            "results": [RESULT],
            "status": "completed",
            "task_info": {"can_cancel": False},
            "type": "video",
        },
    ),
    "aimlapi": (
        {"id": "g1", "status": "queued"},
        {"id": "g1", "status": "completed", "video": {"url": RESULT}, "error": None, "meta": None},
    ),
}
# Every option each provider takes, so that each one is seen to reach the body.
OPTIONS: dict[str, dict[str, Any]] = {
    "evolink": {
        "last_image": LAST,
        "duration": 10,
        "aspect_ratio": "9:16",
        "callback_url": "https://hooks.example.com/x",
    },
    "aimlapi": {"last_image": LAST, "duration": 10},
}
CLIENTS = {"evolink": (EvolinkClient, AsyncEvolinkClient), "aimlapi": (AimlapiClient, AsyncAimlapiClient)}


def recording(provider: str, sent: list[Any]) -> httpx.MockTransport:
    """Answers like the provider and keeps the body of every create."""
    created, finished = ANSWERS[provider]

    def answer(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            sent.append(json.loads(request.content))
            return httpx.Response(200, json=created)
        return httpx.Response(200, json=finished)

    return httpx.MockTransport(answer)


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_both_call_forms_of_create_send_the_same_request(provider: str) -> None:
    sent: list[Any] = []
    options = OPTIONS[provider]
    with SyncClient(provider, api_key="k", transport=recording(provider, sent)) as videos:
        videos.create("A cat", IMAGE, **options)
        videos.create(prompt="A cat", image=IMAGE, **options)
        videos.create(VideoRequest("A cat", IMAGE, **options))
    assert len(sent) == 3 and sent[0] == sent[1] == sent[2]
    assert sent[0]["prompt"] == "A cat" and sent[0]["duration"] == 10
    assert all(str(value) in json.dumps(sent[0]) for value in options.values())  # each option was sent


@pytest.mark.anyio
@pytest.mark.parametrize("provider", list(PROVIDERS))
async def test_both_call_forms_of_generate_send_the_same_request(provider: str) -> None:
    sent: list[Any] = []
    options = OPTIONS[provider]
    seen: list[str] = []
    async with AsyncClient(provider, api_key="k", transport=recording(provider, sent)) as videos:
        one = await videos.generate("A cat", IMAGE, timeout=5, **options)
        other = await videos.generate(
            VideoRequest("A cat", IMAGE, **options), timeout=5, on_progress=lambda t: seen.append(t.id)
        )
    assert sent[0] == sent[1] and one == other and one.video_url == RESULT and seen == [one.id]


def test_a_request_keeps_todays_defaults() -> None:
    request = VideoRequest("A cat", IMAGE)
    assert (request.last_image, request.duration, request.aspect_ratio, request.callback_url) == (
        None,
        5,
        None,
        None,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.duration = 10  # type: ignore[misc]


@pytest.mark.parametrize(
    ("arguments", "options", "message"),
    [
        (("A cat", IMAGE), {"durration": 10}, "unexpected keyword argument 'durration'"),
        (("A cat", IMAGE, None), {}, "positional argument"),  # options are keywords only, as before
        (("A cat",), {}, "missing 1 required positional argument: 'image'"),
        ((VideoRequest("A cat", IMAGE),), {"duration": 10}, "comes alone"),
    ],
)
def test_arguments_that_are_not_a_request_raise_type_error_before_sending(
    arguments: tuple[Any, ...], options: dict[str, Any], message: str
) -> None:
    sent: list[Any] = []
    with EvolinkClient("k", transport=recording("evolink", sent)) as videos:
        with pytest.raises(TypeError, match=message):
            videos.create(*arguments, **options)
        with pytest.raises(TypeError, match=message):
            videos.generate(*arguments, timeout=1, **options)
    assert sent == []


@pytest.mark.anyio
async def test_the_async_verbs_refuse_an_unknown_option_too() -> None:
    sent: list[Any] = []
    async with AsyncEvolinkClient("k", transport=recording("evolink", sent)) as videos:
        with pytest.raises(TypeError, match="'ratio'"):
            await videos.create("A cat", IMAGE, ratio="9:16")  # type: ignore[call-overload]
        with pytest.raises(TypeError, match="'ratio'"):
            await videos.generate("A cat", IMAGE, ratio="9:16")  # type: ignore[call-overload]
    assert sent == []


def test_the_keyword_options_type_is_the_requests_keyword_fields() -> None:
    keywords = [f.name for f in dataclasses.fields(VideoRequest) if f.kw_only]
    assert keywords == list(VideoOptions.__annotations__) and VideoOptions.__total__ is False


@pytest.mark.slow
def test_mypy_checks_both_call_forms_and_the_options_types(tmp_path: Path) -> None:
    """Lines marked `# error` must be the ones mypy --strict reports, and only those."""
    snippet = tmp_path / "uses_the_client.py"
    snippet.write_text(
        textwrap.dedent(
            """
            from client import AsyncEvolinkClient, EvolinkClient, VideoOptions, VideoRequest


            def run(videos: EvolinkClient, options: VideoOptions) -> None:
                videos.create("A cat", "https://example.com/c.jpg", aspect_ratio="9:16")
                videos.create(VideoRequest("A cat", "https://example.com/c.jpg", aspect_ratio="9:16"))
                videos.create(prompt="A cat", image="https://example.com/c.jpg", **options)
                videos.generate("A cat", "u", duration=10, timeout=3, on_progress=print)
                videos.generate(VideoRequest("A cat", "u"), timeout=3)
                videos.create("A cat", "u", durration=10)  # error
                videos.create("A cat", "u", duration="10")  # error
                videos.create(VideoRequest("A cat", "u"), duration=10)  # error
                videos.create("A cat")  # error
                videos.generate(VideoRequest("A cat", "u"), aspect_ratio="1:1")  # error
                VideoRequest("A cat", "u", None)  # error


            async def run_async(videos: AsyncEvolinkClient) -> None:
                await videos.generate(VideoRequest("A cat", "u"), on_progress=print)
                await videos.create("A cat", "u", callback_url=3)  # error
            """
        )
    )
    expected = {n for n, line in enumerate(snippet.read_text().splitlines(), 1) if line.endswith("# error")}
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), str(snippet)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    reported = {int(line.split(":")[1]) for line in checked.stdout.splitlines() if ": error:" in line}
    assert reported == expected, checked.stdout


def test_the_registry_is_keyed_by_each_providers_own_name() -> None:
    assert set(PROVIDERS) == {"evolink", "aimlapi"}
    assert all(api.name == name for name, api in PROVIDERS.items())


@pytest.mark.anyio
@pytest.mark.parametrize("name", list(PROVIDERS))
async def test_every_registered_provider_has_its_sync_and_async_client(name: str) -> None:
    sync_class, async_class = CLIENTS[name]
    assert issubclass(sync_class, SyncClient) and issubclass(async_class, AsyncClient)
    with sync_class("k") as named, SyncClient(name, api_key="k") as by_name:
        assert named.provider == by_name.provider == name
    async with async_class("k") as named_async, AsyncClient(name, api_key="k") as by_name_async:
        assert named_async.provider == by_name_async.provider == name
    with _client(name, "k", None, 1.0) as command:  # what `videogen --provider NAME` runs
        assert command.provider == name


def test_an_unknown_provider_name_lists_the_registered_ones() -> None:
    with pytest.raises(VideoGenError, match="unknown provider 'acme': one of aimlapi, evolink"):
        SyncClient("acme", api_key="k")


def test_videogen_takes_its_provider_choices_from_the_registry() -> None:
    [option] = [p for p in videogen.params if p.name == "provider"]
    assert isinstance(option.type, click.Choice) and list(option.type.choices) == list(PROVIDERS)
    shown = CliRunner().invoke(videogen, ["--help"]).output
    assert all(name in shown for name in PROVIDERS)
    assert all(f"${api.env_key}" in shown for api in PROVIDERS.values())
    refused = CliRunner().invoke(videogen, ["--provider", "acme", "--prompt", "x", "--image", IMAGE])
    assert refused.exit_code == 2 and "'acme' is not one of" in refused.output


def test_import_client_adds_only_the_standard_library_to_what_httpx_loads() -> None:
    """No rich or click (the `videogen` command's), no fake, no contracts. httpx itself loads
    click and rich when they are installed (its own command line), so they are measured from
    there; anyio is httpx's own dependency (the async driver writes files with it)."""
    code = (
        "import sys; import httpx; before = set(sys.modules); import client; "
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    added = loaded.stdout.split()
    assert {name.split(".")[0] for name in added} - set(sys.stdlib_module_names) <= {"client", "anyio"}
    assert "client._sync" in added and "client.cli" not in added
