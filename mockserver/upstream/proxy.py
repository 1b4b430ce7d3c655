"""The endpoint of a proxied provider's operation: the request goes to the real service with the
caller's own key and comes back as the service answered it, recorded and checked on the way
(`upstreams.Upstreams.observe`), and journaled as every request is (task id and neutral status
read from the answer through the provider's shape). What the proxy answers itself is in the
provider's own dialect: 413 for a body over the limit, 429 past the create budget, 502 (or the
closest status the operation documents) when the upstream cannot be reached, each with
`X-Mock-Problem` saying why.

Upstream layer: extends the web pipeline's endpoint; httpx for the way out.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.engine.ids import fingerprint
from mockserver.engine.journal import JournalFields
from mockserver.spec import Operation
from mockserver.upstream.har import REQUEST, Observed
from mockserver.upstream.messages import outgoing, passed_on
from mockserver.upstream.relay import Relay
from mockserver.upstream.target import Hub, Upstream
from mockserver.web.api import Api
from mockserver.web.conformance import RELAYED
from mockserver.web.errors import PROBLEM_HEADER, ApiError
from mockserver.web.host import Host
from mockserver.web.journal import packed_headers, record
from mockserver.web.pipeline import SCOPE_ROUTE, Call, Endpoint
from mockserver.web.reading import bearer, read_body
from mockserver.web.responses import retry_after_of

logger = logging.getLogger("mockserver.upstream")
GATEWAY_STATUSES = (502, 500)  # a failure to reach the upstream: the first the operation documents


@dataclass(frozen=True, slots=True)
class Passed:
    """The upstream's answer as passed on, and what the journal reads from it."""

    response: Response
    task: str | None
    task_status: str | None  # the neutral status, for the journal and the verdicts
    seen: Observed  # the exchange, recorded and checked once the client has its answer


def problem_of(error: httpx.HTTPError, timeout: float) -> str:
    """What went wrong on the way to the upstream, in a few words."""
    causes: list[BaseException] = []
    seen = error.__cause__ or error.__context__
    while seen is not None and len(causes) < 8:
        causes.append(seen)
        seen = seen.__cause__ or seen.__context__
    if isinstance(error, httpx.ConnectTimeout):
        return f"timed out connecting (upstream_timeout {timeout:g} s)"
    if isinstance(error, httpx.TimeoutException):
        return f"timed out waiting for the answer (upstream_timeout {timeout:g} s)"
    if any(isinstance(c, ssl.SSLError) for c in causes) or "SSL" in str(error):
        return f"TLS failed: {error}"
    if any(isinstance(c, ConnectionRefusedError) for c in causes) or "refused" in str(error).lower():
        return "connection refused"
    if isinstance(error, httpx.ConnectError):
        return f"could not connect: {error}"
    if isinstance(error, httpx.RemoteProtocolError):
        return f"the upstream broke the connection: {error or 'closed without an answer'}"
    return f"{type(error).__name__}: {error}"


def gateway_status(op: Operation) -> int:
    return next((status for status in GATEWAY_STATUSES if status in op.responses), GATEWAY_STATUSES[0])


class Forwarder(Endpoint):
    """One operation of a proxied provider, as a plain ASGI app."""

    def __init__(
        self, api: Api, op: Operation, fake: Host, upstream: Upstream, hub: Hub, relay: Relay
    ) -> None:
        super().__init__(api, op, _never, fake)
        self.upstream, self.hub, self.relay = upstream, hub, relay
        self.creates = op.id == upstream.shape.provider.create_operation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fake = self.fake
        if not fake.runtime.running():
            await fake.runtime.start()
        scope[SCOPE_ROUTE] = self.route
        started, arrived = time.perf_counter(), fake.engine.clock.now()
        call = Call(scope, receive, self.op, self.api, fake, dict(scope["headers"]))
        call.key = bearer(call.headers.get(b"authorization"))
        passed: Passed | None = None
        try:
            passed = await self._forward(call)
            response = passed.response
            scope[RELAYED] = True  # the upstream's answer: the drift report checks it, not conformance
        except Exception as error:
            response = self._error(call, error)
        unused = sorted({_title(name) for name in call.headers if name.startswith(b"x-mock-")})
        if unused and passed is not None:
            note = f"{', '.join(unused)} not applied: {self.api.slug} is proxied to {self.upstream.url}"
            response.raw_headers.append((PROBLEM_HEADER.lower().encode(), note.encode("ascii", "replace")))
        if self.api.journaled:
            record(fake, self._forwarded_fields(call, response, passed, started, arrived))
        await response(scope, receive, send)
        if passed is not None:
            self._observe(passed.seen)

    def _observe(self, seen: Observed) -> None:
        """Record and check an exchange; a failure to (a full disk) is logged, never answered."""
        try:
            self.hub.observe(seen)
        except Exception:
            logger.exception("could not record or check %s %s", seen.method, seen.url)

    async def _forward(self, call: Call) -> Passed:
        settings, shape = call.settings, self.upstream.shape
        body = call.raw_body = await read_body(
            call.receive, call.headers.get(b"content-length"), settings.max_body_bytes
        )
        call.body_read = True
        sent, relayed = body, None
        if self.creates:
            await self.hub.spend(self.api.slug, self.op)
            sent, relayed = await self.relay.rewrite(self.upstream, body, call.header(b"content-type"))
        url = self.upstream.target(call.scope)
        headers = outgoing(call.scope["headers"])
        begun, clock = time.time(), time.perf_counter()
        try:
            status, reason, version, answer, content, waited = await self._send(call, url, headers, sent)
        except Exception:
            if relayed is not None:
                await self.relay.settle(relayed, None)
            raise
        received = time.perf_counter() - clock - waited
        parsed = _json(content)
        params = call.scope.get("path_params", {})
        task = shape.task_of(self.op.id, url, parsed, params) if 200 <= status < 300 else None
        if relayed is not None:
            await self.relay.settle(relayed, task)
        seen = Observed(
            provider=self.api.slug,
            operation=self.op.id,
            kind=REQUEST,
            task=task if task is not None or self.creates else shape.asked_task(params, url),
            key=fingerprint(call.key),
            started=begun,
            method=call.scope["method"],
            url=url,
            request_headers=headers,
            request_body=body,  # as the client sent it (a relayed callback URL: its own)
            status=status,
            response_headers=answer,
            response_body=content,
            wait=waited,
            receive=received,
            http_version=version,
            status_text=reason,
        )
        neutral = shape.status(parsed) if task is not None else None
        return Passed(
            passed_on(status, answer, content), task, None if neutral is None else neutral.value, seen
        )

    async def _send(
        self, call: Call, url: str, headers: list[tuple[str, str]], body: bytes
    ) -> tuple[int, str, str, list[tuple[str, str]], bytes, float]:
        """One exchange with the upstream: status, reason, HTTP version, headers, the body (read
        within the body limit) and the seconds until its headers came."""
        client, limit = self.hub.client(), call.settings.max_body_bytes
        request = client.build_request(call.scope["method"], url, headers=headers, content=body)
        clock = time.perf_counter()
        try:
            response = await client.send(request, stream=True)
            waited = time.perf_counter() - clock
            try:
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > limit:
                        raise ApiError(
                            gateway_status(self.op),
                            problem=f"upstream {self.upstream.url}: answer over max_body_bytes ({limit})",
                        )
                    chunks.append(chunk)
            finally:
                await response.aclose()
        except httpx.HTTPError as error:
            problem = problem_of(error, call.settings.upstream_timeout)
            logger.warning("%s %s -> upstream %s: %s", call.scope["method"], call.scope["path"], url, problem)
            raise ApiError(
                gateway_status(self.op), problem=f"upstream {self.upstream.url}: {problem}"
            ) from None
        answer = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in response.headers.raw]
        version = response.http_version
        return response.status_code, response.reason_phrase, version, answer, b"".join(chunks), waited

    def _forwarded_fields(
        self, call: Call, sent: Response, passed: Passed | None, started: float, arrived: float
    ) -> JournalFields:
        """The journal entry of a proxied request, as `Endpoint._fields` makes one."""
        scope, seconds = call.scope, time.perf_counter() - started
        cap, body = call.settings.journal_body_bytes, call.raw_body
        return {
            "time": arrived,
            "wall": time.time() - seconds,
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"),
            "provider": self.api.slug,
            "operation": self.op.id,
            "key": fingerprint(call.key),
            "status": sent.status_code,
            "duration_ms": seconds * 1000,
            "fault": None,
            "task": None if passed is None else passed.task,
            "task_status": None if passed is None else passed.task_status,
            "retry_after": retry_after_of(sent),
            "headers": packed_headers(scope, cap),
            "body": body[:cap].decode("utf-8", "replace") if body else "",
            "body_bytes": len(body),
        }


def _title(name: bytes) -> str:
    """`x-mock-fault` as its documents write it: `X-Mock-Fault`."""
    return "-".join(part.capitalize() for part in name.decode("latin-1").split("-"))


async def _never(call: Any) -> Response:
    raise RuntimeError("a proxied operation has no handler: its answer is the upstream's")


def _json(content: bytes) -> Any:
    try:
        return json.loads(content) if content else None
    except ValueError:
        return None
