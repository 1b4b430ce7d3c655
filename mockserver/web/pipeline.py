"""The one request pipeline every operation runs: injected faults, auth, rate limit,
parameters, body, then the handler, then the journal. Errors become answers in
`web/errors.py`.

Web layer: a plain ASGI endpoint per operation (no Request object on the hot path).
"""

from __future__ import annotations

import enum
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.engine import Engine, Failure, NewTask, Task
from mockserver.engine.faults import parse_status
from mockserver.engine.gate import Gate
from mockserver.engine.ids import fingerprint
from mockserver.engine.journal import JournalEntry
from mockserver.fake import Fake
from mockserver.settings import Settings
from mockserver.spec import FieldError, Operation, Spec, coerce, problems
from mockserver.web import hosts
from mockserver.web.errors import ApiError, Dialect, error_response

FAULT_HEADER, FAIL_HEADER = b"x-mock-fault", b"x-mock-fail"
# Prompt directives, for clients that cannot set headers: [mock:fault=503] [mock:fail=code]
DIRECTIVE = re.compile(r"\[mock:(fault|fail)=([^\]\s]+)\]")
SCOPE_ROUTE = "mock.route"  # (api slug, operationId or None) of the request
WANTED_HEADERS = frozenset(
    {
        b"authorization",
        b"content-length",
        b"content-type",
        b"host",
        b"origin",
        b"sec-fetch-site",
        b"x-mock-token",
        FAULT_HEADER,
        FAIL_HEADER,
    }
)
logger = logging.getLogger("mockserver.requests")

Handler = Callable[["Call"], Awaitable[Response]]
Access = Callable[[Scope, dict[bytes, bytes]], ApiError | None]  # the refusal, or None


class TrailingSlash(enum.Enum):
    """What an API does with a known path followed by one `/`."""

    STRICT = "strict"  # no route: 404
    SERVE = "serve"  # the same route answers (Express's default, non-strict routing)
    REDIRECT = "redirect"  # a redirect to the path without it: 301 for GET, else 307 (Gin's default)


@dataclass(frozen=True, eq=False)
class Api:
    """One API the fake serves: a provider's, the control plane, or the result files."""

    slug: str
    spec: Spec
    dialect: Dialect
    handlers: Mapping[str, Handler]  # by operationId
    mounts: tuple[str, ...] = ("",)  # prefixes the spec's paths are also served under
    operations: frozenset[str] | None = None  # None: all of the spec's
    journaled: bool = True
    guarded: bool = True  # injected faults, auth and the rate limit (the provider APIs)
    accepts_failure: Callable[[str], bool] | None = None  # codes a planned failure may name
    error_schema: str = "ErrorResponse"  # the spec's error envelope, in components.schemas
    access: Access | None = None  # who may call it at all (the control plane)
    json_any_type: bool = False  # take a JSON body whatever its Content-Type (curl -d sends a form type)
    case_sensitive: bool = True  # False: paths match in any case (Express's default)
    trailing_slash: TrailingSlash = TrailingSlash.STRICT

    def served(self) -> list[Operation]:
        return [
            op for op in self.spec.operations.values() if self.operations is None or op.id in self.operations
        ]


@dataclass(slots=True, eq=False)
class Call:
    """One request as a handler sees it."""

    scope: Scope
    receive: Receive
    op: Operation
    api: Api
    fake: Fake
    headers: dict[bytes, bytes]
    key: str | None = None  # the bearer key as sent
    gate: Gate | None = None
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    failure: Failure | None = None
    admitted: bool = False  # the gate has been passed

    @property
    def engine(self) -> Engine:
        return self.fake.engine

    @property
    def settings(self) -> Settings:
        return self.fake.settings

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return None if value is None else value.decode("latin-1")

    @property
    def base_url(self) -> str:
        """Where result links point (`web/hosts.py`: never a host the fake is not reached by)."""
        return hosts.base_url(self.scope, self.header(b"host"), self.settings, self.fake.known_hosts)

    # -- the engine's verbs, through this request's gate ---------------------------------

    def _gate(self) -> Gate:
        if self.gate is None:
            raise RuntimeError(f"{self.op.id} has no gate: only guarded APIs reach provider verbs")
        self.admitted = True
        return self.gate

    async def admit(self) -> None:
        await self.engine.admit(self._gate())

    async def create(self, new: NewTask) -> Task:
        return await self.engine.create(self._gate(), new)

    async def read(self, task_id: str) -> Task:
        return await self.engine.get(self._gate(), task_id)


def bearer(value: bytes | None) -> str | None:
    if value is None:
        return None
    scheme, _, token = value.decode("latin-1").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def documented_error(op: Operation, dialect: Dialect, raw: str, where: str) -> int:
    """A fault trigger's status, which must be an error status the operation documents."""
    status = parse_status(raw)
    if status is not None and status >= 400 and status in op.responses:
        return status
    documented = ", ".join(str(s) for s in sorted(op.responses) if s >= 400)
    raise dialect.invalid(op, [FieldError(where, f"{raw!r} is not one of {documented}")], "header")


async def journal(
    fake: Fake, scope: Scope, api: str, operation: str | None, key: str | None, status: int
) -> None:
    """Journal a provider or file request, and log it when request logging is on."""
    await fake.engine.record(
        JournalEntry(
            0, fake.engine.now(), scope["method"], scope["path"], api, operation, fingerprint(key), status
        )
    )
    if fake.settings.log_requests:
        elapsed = (time.perf_counter() - scope.get("mock.started", time.perf_counter())) * 1000
        logger.info("%s %s %s.%s %s %.1fms", scope["method"], scope["path"], api, operation, status, elapsed)


class Endpoint:
    """One operation as a plain ASGI app."""

    def __init__(self, api: Api, op: Operation, handler: Handler, fake: Fake) -> None:
        self.api, self.op, self.handler, self.fake = api, op, handler, fake
        self.route = (api.slug, op.id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fake = self.fake
        await fake.runtime.ensure_started()
        scope[SCOPE_ROUTE] = self.route
        if fake.settings.log_requests:
            scope["mock.started"] = time.perf_counter()
        headers = {name: value for name, value in scope["headers"] if name in WANTED_HEADERS}
        call = Call(scope, receive, self.op, self.api, fake, headers)
        try:
            response = await self._answer(call)
        except Exception as error:
            settings = fake.settings
            response = error_response(
                scope, self.op, self.api.dialect, error, settings.retry_after, fake.engine.clock
            )
        if self.api.journaled:
            await journal(fake, scope, self.api.slug, self.op.id, call.key, response.status_code)
        await response(scope, receive, send)

    async def _answer(self, call: Call) -> Response:
        op, api, engine = self.op, self.api, call.fake.engine
        if api.access is not None and (refusal := api.access(call.scope, call.headers)) is not None:
            raise refusal
        call.key = bearer(call.headers.get(b"authorization"))
        if api.guarded:
            raw = call.headers.get(FAULT_HEADER)
            if raw is not None:
                status = documented_error(op, api.dialect, raw.decode("latin-1"), "X-Mock-Fault")
                raise ApiError(status, retry_after=call.settings.retry_after)
        problem: ApiError | None = None
        try:
            call.params = self._params(call)
            if op.body_validator is not None:
                await self._body(call)
        except ApiError as error:
            problem = error
        if api.guarded:
            accepted = not op.secured or engine.accepts(call.key)
            call.gate = engine.gate(op.id, fingerprint(call.key), accepted)
            if not accepted or problem is not None:
                await call.admit()  # armed fault rules and the rate limit come first
                raise problem if accepted and problem is not None else ApiError(401)
        elif problem is not None:
            raise problem
        try:
            return await self.handler(call)
        except ApiError:
            if call.gate is not None and not call.admitted:
                await call.admit()
            raise

    def _params(self, call: Call) -> dict[str, Any]:
        op = self.op
        if op.params_validator is None:
            return {}
        scope, values = call.scope, {}
        query: dict[str, str] | None = None
        for param in op.params:
            if param.location == "path":
                raw = scope["path_params"].get(param.name)
            else:
                if query is None:
                    query = dict(parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True))
                raw = query.get(param.name)
            if raw is not None:
                values[param.name] = coerce(raw, param.schema)
        errors = problems(op.params_validator, values)
        if errors:
            where = next((p.location for p in op.params if p.name == errors[0].top), "query")
            raise self.api.dialect.invalid(op, errors, where)
        return values

    async def _body(self, call: Call) -> None:
        op, dialect = self.op, self.api.dialect
        raw = await self._read(call)
        if not raw:
            if op.body_required:
                raise dialect.invalid(op, [FieldError("body", "a JSON body is required", "empty")], "body")
            return
        content_type = (call.header(b"content-type") or "").split(";")[0].strip().lower()
        is_json = content_type == "application/json" or content_type.endswith("+json")
        if not is_json and not self.api.json_any_type:
            detail = "Content-Type must be application/json"
            raise dialect.invalid(op, [FieldError("body", detail, "media_type")], "body")
        try:
            call.body = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            # `expected`: where parsing stopped; `received`: the raw body (a dialect may quote it)
            problem = FieldError("body", f"malformed JSON: {error}", "json", error.pos, raw)
            raise dialect.invalid(op, [problem], "body") from None
        if self.api.guarded:
            call.failure = self._planned_failure(call)
        errors = problems(op.body_validator, call.body) if op.body_validator is not None else []
        if errors:  # JSON `null` is a body too, and is checked
            raise dialect.invalid(op, errors, "body")

    async def _read(self, call: Call) -> bytes:
        limit = call.settings.max_body_bytes
        declared = call.header(b"content-length") or ""
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            raise ApiError(413)
        raw = bytearray()
        while True:
            message = await call.receive()
            if message["type"] == "http.disconnect":
                raise ApiError(400, errors=(FieldError("body", "the client disconnected"),))
            raw += message.get("body", b"")
            if len(raw) > limit:
                raise ApiError(413)
            if not message.get("more_body", False):
                return bytes(raw)

    def _planned_failure(self, call: Call) -> Failure | None:
        """Deterministic triggers in the prompt (`[mock:fault=S]`, `[mock:fail=C]`) and the
        `X-Mock-Fail` header; a fault directive answers now, a fail plan ends the task failed."""
        code, where = call.header(FAIL_HEADER), "X-Mock-Fail"
        prompt = call.body.get("prompt") if isinstance(call.body, dict) else None
        if isinstance(prompt, str):
            for kind, value in DIRECTIVE.findall(prompt):
                if kind == "fault":
                    status = documented_error(self.op, self.api.dialect, value, "prompt")
                    raise ApiError(status, retry_after=call.settings.retry_after)
                if code is None:
                    code, where = value, "prompt"
        if code is None:
            return None
        code = code.strip()
        accepts = self.api.accepts_failure
        if accepts is not None and not accepts(code):
            detail = f"{code!r} is not a failure code {self.api.slug} reports"
            raise self.api.dialect.invalid(self.op, [FieldError(where, detail)], "header")
        return Failure(code)
