"""Callbacks through the proxy. With a public URL, a proxied create's callback URL is swapped for
the relay's own address (`/__mock/relay/<token>`, an opaque token per create); the provider's
callback arrives there, is recorded and checked (the drift report), and goes on to the original
URL under the callback guard's rules, the provider getting the original receiver's answer.

The token maps back to the original URL through a delivery record in the store (id
`relay-<token>`), so any process sharing the store can relay, and `GET /__mock/callbacks` lists
relayed callbacks with their outcome. Without a public URL, or for a callback URL the guard
refuses, the URL passes through unchanged and the callback is not observed.

Upstream layer.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import httpx
import orjson
from starlette.responses import Response

from mockserver.callbacks.delivery import USER_AGENT
from mockserver.callbacks.guard import CallbackGuard, CallbackRefused
from mockserver.callbacks.wire import ANSWER_CAP
from mockserver.engine import Engine
from mockserver.engine.deliveries import DELIVERED, DROPPED, FAILED, Attempt, Delivery
from mockserver.settings import Settings
from mockserver.upstream.har import CALLBACK, Observed
from mockserver.upstream.messages import outgoing, passed_on
from mockserver.upstream.shape import put
from mockserver.upstream.target import Hub, Upstream
from mockserver.web.conformance import RELAYED
from mockserver.web.errors import ApiError
from mockserver.web.pipeline import Call
from mockserver.web.reading import read_body

logger = logging.getLogger("mockserver.upstream")
RELAY_PATH = "/__mock/relay/"
RELAY_PREFIX = "relay-"  # a relay's delivery id: the prefix, then its token
SWAP_TRIES = 5  # another process may update the same delivery at the same moment


@dataclass(frozen=True, slots=True)
class Relayed:
    delivery: Delivery  # as stored when the create went out


@dataclass(frozen=True, slots=True)
class Delivered:
    """The original receiver's answer (status 0 and a problem where there was none)."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes
    problem: str | None = None


def _outcome(delivered: Delivered) -> str:
    if delivered.problem is not None:
        return "refused" if delivered.problem.startswith("refused") else "connection_error"
    return (
        "success" if 200 <= delivered.status < 300 else "redirect" if delivered.status < 400 else "http_error"
    )


class Relay:
    def __init__(self, settings: Settings, engine: Engine, guard: CallbackGuard, hub: Hub) -> None:
        self.settings, self.engine, self.guard, self.hub = settings, engine, guard, hub
        self.public = settings.public_url.rstrip("/") if settings.public_url else None
        self.unobserved: Counter[str] = Counter()  # creates whose callback URL passed through, by reason

    async def rewrite(
        self, upstream: Upstream, body: bytes, content_type: str | None
    ) -> tuple[bytes, Relayed | None]:
        """A create's body as forwarded: its callback URL swapped for a relay address, where it
        names one the relay may take."""
        shape = upstream.shape
        if shape.callback_pointer is None:
            return body, None
        try:
            parsed: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body, None
        url = shape.callback_url(parsed)
        if url is None:
            return body, None
        if self.public is None:
            self.unobserved["no public URL (--public-url): callback URLs passed through"] += 1
            return body, None
        try:
            self.guard.target(url)
        except CallbackRefused as refusal:
            self.unobserved[f"a callback URL the relay may not reach ({refusal}): passed through"] += 1
            return body, None
        token = f"{upstream.slug}.{secrets.token_urlsafe(18)}"
        delivery = Delivery(RELAY_PREFIX + token, "", url, {}, self.engine.now())
        await self.engine.store.put_delivery(delivery, ())
        put(parsed, shape.callback_pointer, f"{self.public}{RELAY_PATH}{token}")
        return orjson.dumps(parsed), Relayed(delivery)

    async def settle(self, relayed: Relayed, task: str | None) -> None:
        """The create's outcome: the task the relay address belongs to, or none (dropped)."""
        old = relayed.delivery
        new = replace(old, task_id=task) if task is not None else replace(old, state=DROPPED)
        await self.engine.update_delivery(old, new)

    async def relay(self, call: Call) -> Response:
        """A provider's callback: recorded, checked, and passed to the original receiver."""
        token = str(call.params["token"])
        raw = await read_body(call.receive, call.headers.get(b"content-length"), self.settings.max_body_bytes)
        call.body_read = True
        delivery = await self.engine.delivery(RELAY_PREFIX + token)
        upstream = self.hub.by_slug.get(token.partition(".")[0])
        if delivery is None or upstream is None:
            logger.warning("a callback came to an unknown relay address (%s...)", token[:12])
            raise ApiError(404, message="no relay address by this token (a reset forgets them)")
        received = outgoing(call.scope["headers"])
        started, clock = time.time(), time.perf_counter()
        delivered = await self._deliver(delivery.url, received, raw)
        waited = time.perf_counter() - clock
        parsed = _json(raw)
        task = upstream.shape.task_id(parsed) or delivery.task_id or None
        self.hub.observe(
            Observed(
                provider=upstream.slug,
                operation=upstream.shape.callback_operation,
                kind=CALLBACK,
                task=task,
                key=None,
                started=started,
                method=call.scope["method"],
                url=delivery.url,
                request_headers=received,
                request_body=raw,
                status=delivered.status,
                response_headers=delivered.headers,
                response_body=delivered.body,
                wait=waited,
                status_text=delivered.problem or "",
            )
        )
        await self._note(delivery.id, task, parsed, delivered, waited)
        if delivered.problem is not None:
            raise ApiError(
                502,
                message=f"the relay could not deliver the callback: {delivered.problem}",
                problem=delivered.problem,
            )
        call.scope[RELAYED] = True  # the original receiver's answer, passed on
        return passed_on(delivered.status, delivered.headers, delivered.body)

    async def _deliver(self, url: str, headers: list[tuple[str, str]], body: bytes) -> Delivered:
        """POST the callback to the original receiver: the vetted address, the name kept for
        Host and TLS, no redirect followed."""
        try:
            target, address = await self.guard.vet(url)
        except CallbackRefused as refusal:
            return Delivered(0, [], b"", f"refused by the callback rules: {refusal}")
        target_url = httpx.URL(url)
        sent = [(n, v) for n, v in headers if n.lower() != "user-agent"]
        sent += [("Host", target_url.netloc.decode()), ("User-Agent", USER_AGENT)]
        client = self.hub.client(relay=True)
        try:
            request = client.build_request(
                "POST",
                target_url.copy_with(host=address or target.host),
                headers=sent,
                content=body,
                extensions={"sni_hostname": target.host, "timeout": self._timeout()},
            )
            response = await client.send(request, stream=True)
            try:
                content = b""
                async for chunk in response.aiter_bytes():
                    content += chunk
                    if len(content) > ANSWER_CAP:
                        break
            finally:
                await response.aclose()
        except httpx.HTTPError as error:
            return Delivered(0, [], b"", f"{type(error).__name__}: {error}")
        answer = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in response.headers.raw]
        return Delivered(response.status_code, answer, content[:ANSWER_CAP])

    def _timeout(self) -> dict[str, float]:
        seconds = self.settings.callback_timeout
        return {"connect": seconds, "read": seconds, "write": seconds, "pool": seconds}

    async def _note(
        self, delivery_id: str, task: str | None, body: Any, delivered: Delivered, took: float
    ) -> None:
        """The relayed attempt on the delivery record (`GET /__mock/callbacks` shows it)."""
        for _ in range(SWAP_TRIES):
            old = await self.engine.delivery(delivery_id)
            if old is None:
                return
            attempt = Attempt(
                len(old.attempts) + 1,
                self.engine.now(),
                old.url,
                _outcome(delivered),
                delivered.status or None,
                round(took, 6),
                delivered.problem,
            )
            new = replace(
                old,
                task_id=task or old.task_id,
                body=body if isinstance(body, dict) else {},
                state=DELIVERED if attempt.outcome == "success" else FAILED,
                attempts=(*old.attempts, attempt),
            )
            if await self.engine.update_delivery(old, new):
                return


def _json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError:
        return None
