"""What both modes measure: the scenarios (one request repeated, after its set-up), each compared
with the bare endpoint's GET or POST, and the variants of the fake's command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bench.bodies import AIMLAPI_BODY, EVOLINK_BODY
from bench.http1 import Connection
from bench.servers import bare_command, fake_command

BARE_TASK = "/v1/tasks/task-unified-1767225600-4gwykf6a"
# A new task is queued for 2 s at the default speed; polls are measured once it is processing.
QUEUE_SECONDS = 2.5


@dataclass(frozen=True)
class Scenario:
    name: str
    target: str  # "bare" or "fake"
    method: str
    body: dict[str, Any] | None
    setup: Callable[[Connection], str]  # returns the path to request, creating a task if need be
    reference: Scenario | None = None  # the bare scenario this one is compared with
    settle: float = 0.0  # seconds to wait after the set-up


@dataclass(frozen=True)
class Variant:
    label: str
    flags: tuple[str, ...] = ()
    store: bool = False  # also `--store URL`, the URL known only when the server starts
    requires: tuple[str, ...] = ()  # mockserver flags this variant needs


def fixed(path: str) -> Callable[[Connection], str]:
    return lambda conn: path


def created(create_path: str, body: dict[str, Any], poll_path: str) -> Callable[[Connection], str]:
    """Create one task; its poll path is `poll_path` with the task's id (URL-encoded) in it."""

    def setup(conn: Connection) -> str:
        status, answer = conn.request("POST", create_path, body)
        if status >= 300:
            raise RuntimeError(f"create {create_path} answered {status}: {answer[:300]!r}")
        return poll_path.format(id=quote(json.loads(answer)["id"], safe=""))

    return setup


BARE_GET = Scenario("bare GET", "bare", "GET", None, fixed(BARE_TASK))
BARE_POST = Scenario("bare POST", "bare", "POST", EVOLINK_BODY, fixed("/v1/videos/generations"))
EVOLINK_POLL = Scenario(
    "evolink poll",
    "fake",
    "GET",
    None,
    created("/v1/videos/generations", EVOLINK_BODY, "/v1/tasks/{id}"),
    BARE_GET,
    QUEUE_SECONDS,
)
AIMLAPI_POLL = Scenario(
    "aimlapi poll",
    "fake",
    "GET",
    None,
    created("/v2/video/generations", AIMLAPI_BODY, "/v2/video/generations?generation_id={id}"),
    BARE_GET,
    QUEUE_SECONDS,
)
EVOLINK_CREATE = Scenario(
    "evolink create", "fake", "POST", EVOLINK_BODY, fixed("/v1/videos/generations"), BARE_POST
)
AIMLAPI_CREATE = Scenario(
    "aimlapi create", "fake", "POST", AIMLAPI_BODY, fixed("/v2/video/generations"), BARE_POST
)
BARE = (BARE_GET, BARE_POST)

BARE_FLAGS = Variant("the fake's uvicorn flags")
DEFAULT = Variant("default flags")  # --log-level info: one log line per request
QUIET = Variant("--log-level warning", ("--log-level", "warning"))
STORE_1 = Variant("--store, 1 worker", store=True, requires=("--store",))
STORE_2 = Variant("--store, 2 workers", ("--workers", "2"), store=True, requires=("--store", "--workers"))


def command(target: str, variant: Variant, port: int, store_url: str | None) -> list[str]:
    """The command of the bare or the fake server with `variant`'s flags."""
    if target == "bare":
        return bare_command(port)
    store = ("--store", store_url) if variant.store and store_url is not None else ()
    return fake_command(port, (*variant.flags, *store))
