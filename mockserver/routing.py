"""Routes built from a spec's operations (operationId -> handler) and the request pipeline
every provider request runs: injected faults, auth, rate limit, validation, then the handler.

Web layer: knows Starlette and the engine, but no provider's words; each provider's
`Wire` renders its own error bodies.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import jsonschema_rs
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mockserver.engine import Engine, Failure, InsufficientCredits, TaskForbidden, TaskNotFound
from mockserver.spec import Operation, Spec, coerce

if TYPE_CHECKING:
    from mockserver.state import MockState

FAULT_HEADER = "x-mock-fault"
FAULT_HEADER_BYTES = FAULT_HEADER.encode()
FAIL_HEADER = "x-mock-fail"
# Prompt directives, for clients that cannot set headers: [mock:fault=503] [mock:fail=code]
DIRECTIVE = re.compile(r"\[mock:(fault|fail)=([^\]\s]+)\]")
SCOPE_ROUTE = "mock.route"  # (provider, operationId) of the request, for the journal
SCOPE_KEY = "mock.key"  # the bearer key, parsed once per request


@dataclass(frozen=True)
class FieldError:
    field: str  # "image_urls[0]", "generation_id", "body"
    detail: str
    keyword: str = "invalid"  # the schema keyword that failed: "enum", "required", ...

    @property
    def top(self) -> str:
        """The top-level field: `image_urls` for `image_urls[0]`."""
        return re.split(r"[.\[]", self.field, maxsplit=1)[0]


@dataclass(eq=False)
class ApiError(Exception):
    """An error answer; the provider's Wire turns it into the provider's exact body."""

    status: int
    param: str | None = None
    errors: tuple[FieldError, ...] = ()
    retry_after: int | None = None
    where: str = "body"  # body, query, path or header: which 400 message to use
    message: str | None = None  # control plane only


class Wire(Protocol):
    slug: str
    foreign_task_status: int  # D10: evolink says 403; aimlapi does not reveal the task (404)

    def error_response(self, request: Request, op: Operation | None, error: ApiError) -> Response: ...

    def invalid(self, op: Operation, errors: list[FieldError], where: str) -> ApiError: ...

    def failure(self, code: str) -> Failure: ...


@dataclass(slots=True)
class Call:
    """One validated request, as a handler sees it."""

    request: Request
    op: Operation
    state: MockState
    key: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    failure: Failure | None = None

    @property
    def engine(self) -> Engine:
        return self.state.engine

    @property
    def base_url(self) -> str:
        """Where result links point: the public URL setting, else the host the client used."""
        if self.state.settings.public_url:
            return self.state.settings.public_url
        scope = self.request.scope
        host = self.request.headers.get("host")
        if host is None:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        return f"{scope['scheme']}://{host}"


Handler = Callable[[Call], Awaitable[Response]]


def bearer_key(request: Request) -> str | None:
    """The `Authorization: Bearer` key, parsed once per request (cached in the scope)."""
    return bearer_key_of(request.scope)


def bearer_key_of(scope: MutableMapping[str, Any]) -> str | None:
    if SCOPE_KEY in scope:
        cached: str | None = scope[SCOPE_KEY]
        return cached
    header = next((value for name, value in scope.get("headers", ()) if name == b"authorization"), b"")
    scheme, _, token = header.decode("latin-1").partition(" ")
    key = token.strip() or None if scheme.lower() == "bearer" else None
    scope[SCOPE_KEY] = key
    return key


def _header(scope: MutableMapping[str, Any], name: bytes) -> str | None:
    """One header from the raw list (cheaper than building Starlette's Headers)."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def field_errors(errors: Iterable[jsonschema_rs.ValidationError]) -> list[FieldError]:
    """Name each failing field: `image_urls[0]`, `duration`, or the missing property."""
    found = []
    for error in errors:
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
        name = path.lstrip(".")
        kind = error.kind
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            name = f"{name}.{kind.property}" if name else str(kind.property)
        elif isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            extra = ", ".join(map(str, kind.unexpected))
            name = f"{name}.{extra}" if name else extra
        found.append(FieldError(name or "body", error.message, type(kind).__name__.lower()))
    return sorted(found, key=lambda e: e.field)


def _documented_error(op: Operation, raw: str, header: str) -> int:
    """A fault trigger's status, which must be an error status the operation documents."""
    if raw.isdigit() and int(raw) >= 400 and int(raw) in op.responses:
        return int(raw)
    documented = ", ".join(str(s) for s in sorted(op.responses) if s >= 400)
    raise ApiError(
        400, param=header, where="header", errors=(FieldError(header, f"{raw!r} is not one of {documented}"),)
    )


class Pipeline:
    """The shared steps of every request to one provider (or the control plane)."""

    def __init__(self, spec: Spec, wire: Wire, *, provider: bool, journaled: bool = True) -> None:
        self.spec, self.wire, self.provider, self.journaled = spec, wire, provider, journaled

    def routes(
        self,
        handlers: Mapping[str, Handler],
        prefixes: Iterable[str] = ("",),
        only: Iterable[str] | None = None,
    ) -> list[Route]:
        wanted = set(only) if only is not None else set(self.spec.operations)
        routes = []
        # Reads first: Starlette tries routes in order, and polls are most of the traffic.
        operations = sorted(self.spec.operations.values(), key=lambda op: op.method != "GET")
        for prefix in prefixes:
            for op in operations:
                if op.id not in wanted:
                    continue
                handler = handlers[_snake(op.id)]
                routes.append(
                    Route(
                        prefix + op.route_path,
                        self._endpoint(op, handler),
                        methods=[op.method],
                        name=f"{prefix}{op.id}",
                    )
                )
        return routes

    def _endpoint(self, op: Operation, handler: Handler) -> Endpoint:
        return Endpoint(self, op, handler)

    async def _answer(self, request: Request, op: Operation, handler: Handler) -> Response:
        try:
            return await handler(await self._prepare(request, op))
        except ApiError as error:
            return self.wire.error_response(request, op, error)
        except InsufficientCredits:
            return self.wire.error_response(request, op, ApiError(_credits_status(op)))
        except TaskNotFound:
            return self.wire.error_response(request, op, ApiError(404))
        except TaskForbidden:
            return self.wire.error_response(request, op, ApiError(self.wire.foreign_task_status))

    async def _prepare(self, request: Request, op: Operation) -> Call:
        state: MockState = request.app.state.mock
        key = bearer_key(request)
        if self.provider:
            self._injected_faults(request, op, state, key)
            if op.secured and not state.engine.accepts(key):
                raise ApiError(401)
            self._rate_limit(state, key)
        call = Call(request, op, state, key or "", params=self._params(request, op))
        sent = False
        if op.body_validator is not None:
            sent, call.body = await self._body(request, op, state)
        if self.provider and op.body_validator is not None:  # fail plans ride on creates only
            call.failure = self._failure(request, op, call.body)
        if op.body_validator is not None and sent and not op.body_validator.is_valid(call.body):
            # JSON `null` is a body too, and is checked
            errors = field_errors(op.body_validator.iter_errors(call.body))
            if errors:
                raise self.wire.invalid(op, errors, "body")
        return call

    def _injected_faults(self, request: Request, op: Operation, state: MockState, key: str | None) -> None:
        raw = _header(request.scope, FAULT_HEADER_BYTES)
        if raw is not None:
            status = _documented_error(op, raw.strip(), "X-Mock-Fault")
            raise ApiError(status, retry_after=state.settings.retry_after)
        rule = state.engine.faults.take(op.id, key)
        if rule is not None:
            raise ApiError(rule.status, retry_after=rule.retry_after or state.settings.retry_after)

    def _rate_limit(self, state: MockState, key: str | None) -> None:
        limiter = state.engine.limiter
        if limiter.per_minute <= 0:
            return
        wait = limiter.hit(key or "", state.engine.clock.now())
        if wait is not None:
            real = state.engine.clock.real_seconds(wait)
            raise ApiError(429, retry_after=max(1, math.ceil(wait if real is None else real)))

    def _params(self, request: Request, op: Operation) -> dict[str, Any]:
        if op.params_validator is None:
            return {}
        values: dict[str, Any] = {}
        for param in op.params:
            source = request.path_params if param.location == "path" else request.query_params
            if param.name in source:
                values[param.name] = coerce(str(source[param.name]), param.schema)
        if op.params_validator.is_valid(values):  # the fast path: no error objects
            return values
        errors = field_errors(op.params_validator.iter_errors(values))
        if errors:
            where = next((p.location for p in op.params if p.name == errors[0].top), "query")
            raise self.wire.invalid(op, errors, where)
        return values

    async def _body(self, request: Request, op: Operation, state: MockState) -> tuple[bool, Any]:
        """(whether a body was sent, the parsed JSON)."""
        limit = state.settings.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise ApiError(413)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = bytearray()
        try:
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > limit:
                    raise ApiError(413)
        except ClientDisconnect:
            raise ApiError(400, errors=(FieldError("body", "the client disconnected"),)) from None
        if not raw:
            if op.body_required:
                raise self.wire.invalid(op, [FieldError("body", "a JSON body is required")], "body")
            return False, None
        if content_type != "application/json" and not content_type.endswith("+json"):
            raise self.wire.invalid(op, [FieldError("body", "Content-Type must be application/json")], "body")
        try:
            return True, json.loads(raw)
        except (ValueError, UnicodeDecodeError) as error:
            raise self.wire.invalid(op, [FieldError("body", f"malformed JSON: {error}")], "body") from None

    def _failure(self, request: Request, op: Operation, body: Any) -> Failure | None:
        """Deterministic triggers in the prompt (`[mock:fault=S]`, `[mock:fail=C]`) and the
        `X-Mock-Fail` header; a fault directive answers now, a fail plan ends the task failed."""
        code = request.headers.get(FAIL_HEADER)
        prompt = body.get("prompt") if isinstance(body, dict) else None
        if isinstance(prompt, str):
            for kind, value in DIRECTIVE.findall(prompt):
                if kind == "fault":
                    status = _documented_error(op, value, "prompt")
                    raise ApiError(status, retry_after=request.app.state.mock.settings.retry_after)
                code = code or value
        return self.wire.failure(code.strip()) if code else None


class Endpoint:
    """One operation as a plain ASGI app: Starlette calls it without its request/response
    wrapper (a second exception layer per request that these endpoints do not need)."""

    def __init__(self, pipeline: Pipeline, op: Operation, handler: Handler) -> None:
        self.pipeline, self.op, self.handler = pipeline, op, handler
        self.route_label = (pipeline.wire.slug, op.id)
        self.__name__ = _snake(op.id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        state: MockState = scope["app"].state.mock
        state.before_request(scope)
        scope[SCOPE_ROUTE] = self.route_label
        response = await self.pipeline._answer(request, self.op, self.handler)
        if self.pipeline.journaled:  # here, not in a middleware: an ASGI layer costs microseconds
            state.record(scope, self.route_label[0], self.op.id, response.status_code)
        await response(scope, receive, send)


def _credits_status(op: Operation) -> int:
    # D15: evolink refuses with 402, aimlapi with 403 (whichever the operation documents).
    return 402 if 402 in op.responses else 403


def _snake(operation_id: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
