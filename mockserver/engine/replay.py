"""Replaying recordings (`--replay FILE.har`): a create that matches a recorded create gets the
recorded lifecycle (the same status words, progress and ETA at the same offsets from its creation
on the fake clock, the same outcome, the callback at its recorded offset) as the task's `Script`,
another source of observations beside the fake's own timing; a recorded error answer is answered
again for the same request. Ids, timestamps and result URLs stay the fake's own.

Matching: creates by their shape (provider, and the create body with long texts, URLs and
lists reduced to what kind they are), the k-th create of a shape getting that shape's k-th
recorded answer (numbers from the store, so every process sharing it agrees); other requests
exactly (operation, task id, query, body).

Engine layer: data over the engine's records; providers seen through a small protocol, the
recording's file format read elsewhere (`mockserver/upstream/recordings.py`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from mockserver.engine.engine import Engine
from mockserver.engine.tasks import CallbackPlan, Failure, Observation, Script

TOKEN_LENGTH = 40  # a string value up to this long, with no space, is part of a create's shape
SUCCESS = range(200, 300)


class ProviderView(Protocol):
    """What replay needs of a provider record (`mockserver.providers.base.Provider`)."""

    @property
    def slug(self) -> str: ...

    @property
    def create_operation(self) -> str: ...

    @property
    def retrieve_operation(self) -> str: ...

    @property
    def observed(self) -> Callable[[Any, float], tuple[Observation, Failure | None] | None] | None:
        """What a task body says, as an observation at an offset from the create."""


@dataclass(frozen=True)
class Exchange:
    """One recorded exchange, as replay reads it from a recording."""

    provider: str | None
    operation: str | None
    kind: str  # "request" or "callback"
    task: str | None
    started: float  # Unix seconds
    method: str
    url: str
    request: Any  # the parsed JSON body, or None
    status: int
    response: Any  # the parsed JSON body, or None

    @property
    def query(self) -> str:
        return urlsplit(self.url).query

    @property
    def last_segment(self) -> str:
        """The path's last segment (a task id in a task query's path)."""
        return unquote(urlsplit(self.url).path.rstrip("/").rsplit("/", 1)[-1])


@dataclass(frozen=True)
class Answer:
    """What a matched request gets: a recorded lifecycle (for a create), or a recorded answer."""

    script: Script | None = None
    callback_after: float | None = None  # the recorded callback's offset from the create
    status: int | None = None  # a recorded answer to send as it was
    body: Any = None
    recorded: Mapping[str, Any] = field(default_factory=dict)  # the recorded request, for messages

    def callback_plan(self) -> CallbackPlan | None:
        """The callback at its recorded offset: that long after the end, or before it (early)."""
        if self.script is None or self.callback_after is None:
            return None
        ends = self.script.ends_after
        if not math.isfinite(ends):
            return None
        return CallbackPlan(
            delay=max(0.0, self.callback_after - ends), early=max(0.0, ends - self.callback_after)
        )


class NoMatch(LookupError):
    """Strict replay: a create that no recording holds; the message names it and the closest one."""


def shape(value: Any) -> Any:
    """What a create asks for, without what changes from run to run: short tokens kept (model,
    duration, aspect ratio), long texts and URLs reduced to their kind, lists to their length."""
    if isinstance(value, Mapping):
        return tuple(sorted((str(k), shape(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", len(value))
    if isinstance(value, str):
        if value.startswith(("http://", "https://", "data:")):
            return "<url>"
        return value if len(value) <= TOKEN_LENGTH and " " not in value else "<text>"
    return value


def _key(*parts: Any) -> str:
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Book:
    """The recorded answers of one or more recordings, ready to be replayed."""

    def __init__(
        self, providers: Mapping[str, ProviderView], *, strict: bool = False, generation: str = ""
    ) -> None:
        # `generation` names this book's counters in the store: a book loaded anew starts over
        # (every process loading the same `--replay` files shares one generation, and counters).
        self.providers, self.strict, self.generation = providers, strict, generation
        self.creates: dict[str, list[Answer]] = {}  # by create shape key, in recorded order
        self.exact: dict[str, list[Answer]] = {}  # other requests, by exact key
        self.shapes: dict[str, tuple[str, Any]] = {}  # shape key -> (provider, shape), for messages

    def load(self, exchanges: Iterable[Exchange]) -> int:
        """Add a recording's exchanges; the number of answers it added."""
        ordered = sorted(exchanges, key=lambda e: e.started)
        added = 0
        for index, exchange in enumerate(ordered):
            provider = self.providers.get(exchange.provider or "")
            if provider is None or exchange.kind != "request":
                continue
            if exchange.operation == provider.create_operation:
                key = _key(provider.slug, shape(exchange.request))
                self.shapes[key] = (provider.slug, exchange.request)
                self.creates.setdefault(key, []).append(
                    self._create(provider, exchange, ordered[index + 1 :])
                )
                added += 1
            elif exchange.status not in SUCCESS:
                key = _key(
                    provider.slug, exchange.operation, exchange.last_segment, exchange.query, exchange.request
                )
                self.exact.setdefault(key, []).append(
                    Answer(status=exchange.status, body=exchange.response, recorded=_shown(exchange))
                )
                added += 1
        return added

    def _create(self, provider: ProviderView, create: Exchange, later: list[Exchange]) -> Answer:
        """A recorded create's answer: its error as it was, or the lifecycle its polls showed."""
        if create.status not in SUCCESS or create.task is None:
            return Answer(status=create.status, body=create.response, recorded=_shown(create))
        observe = provider.observed
        if observe is None:  # a provider that cannot say what its bodies show: not replayed
            return Answer(recorded=_shown(create))
        observations, failure, callback_after = [], None, None
        first = observe(create.response, 0.0)
        if first is not None:
            observations.append(first[0])
        ended = False
        for exchange in later:
            if exchange.task != create.task or exchange.provider != provider.slug:
                continue
            offset = max(0.0, exchange.started - create.started)
            if exchange.kind == "callback":
                callback_after = offset if callback_after is None else callback_after
                continue
            seen = observe(exchange.response, offset) if exchange.status in SUCCESS else None
            if exchange.operation == provider.retrieve_operation and seen is not None and not ended:
                observations.append(seen[0])  # polls after the end add nothing the end did not show
                failure = seen[1] or failure
                ended = seen[0].status.finished
        script = Script(tuple(observations), failure) if observations else None
        return Answer(script=script, callback_after=callback_after, recorded=_shown(create))

    async def for_create(self, engine: Engine, provider: str, body: Any) -> Answer | None:
        """The recorded answer for this create (the next of its shape), or None to fake it as
        usual; strict: `NoMatch` when no recording holds one."""
        key = _key(provider, shape(body))
        queue = self.creates.get(key, [])
        if queue:
            taken = await engine.number(f"replay:{self.generation}:{key}")
            if taken <= len(queue):
                return queue[taken - 1]
        if self.strict:
            raise NoMatch(self._nearest(provider, body, used_up=bool(queue)))
        return None

    async def for_request(
        self, engine: Engine, provider: str, operation: str, last_segment: str, query: str, body: Any
    ) -> Answer | None:
        """The recorded answer for exactly this request (the next, in recorded order), if any:
        the same operation, last path segment (a task id), query and body."""
        key = _key(provider, operation, last_segment, query, body)
        queue = self.exact.get(key)
        if not queue:
            return None
        taken = await engine.number(f"replay:{self.generation}:{key}")
        return queue[taken - 1] if taken <= len(queue) else None

    def _nearest(self, provider: str, body: Any, used_up: bool) -> str:
        asked = shape(body)
        if used_up:
            return f"every recorded create of this shape has been replayed: {_brief(asked)}"
        candidates = [recorded for slug, recorded in self.shapes.values() if slug == provider]
        if not candidates:
            return f"no recorded {provider} create (the recordings hold {len(self.shapes)} create shape(s))"
        nearest = min(candidates, key=lambda recorded: _distance(asked, shape(recorded)))
        return (
            f"no recorded create matches {_brief(asked)}; the closest recorded one is "
            f"{_brief(shape(nearest))} (differs in {', '.join(_differences(asked, shape(nearest)))})"
        )

    def absorb(self, other: Book) -> None:
        """Take in what another book has loaded (its answers after this one's, shape by shape)."""
        for key, queue in other.creates.items():
            self.creates.setdefault(key, []).extend(queue)
        for key, queue in other.exact.items():
            self.exact.setdefault(key, []).extend(queue)
        self.shapes |= other.shapes

    def summary(self) -> dict[str, Any]:
        return {
            "strict": self.strict,
            "creates": sum(len(queue) for queue in self.creates.values()),
            "shapes": len(self.creates),
            "answers": sum(len(queue) for queue in self.exact.values()),
        }


def _shown(exchange: Exchange) -> dict[str, Any]:
    return {"method": exchange.method, "url": exchange.url, "body": exchange.request}


def _fields(shaped: Any) -> dict[str, Any]:
    return dict(shaped) if isinstance(shaped, tuple) and all(isinstance(p, tuple) for p in shaped) else {}


def _differences(asked: Any, recorded: Any) -> list[str]:
    mine, theirs = _fields(asked), _fields(recorded)
    return sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k)) or ["nothing"]


def _distance(asked: Any, recorded: Any) -> int:
    return len(_differences(asked, recorded))


def _brief(shaped: Any) -> str:
    return ", ".join(f"{k}={v}" for k, v in _fields(shaped).items()) or str(shaped)
