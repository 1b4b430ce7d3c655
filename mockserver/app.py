"""`create_app(settings)`: one Starlette app serving both providers, the control plane and
the result files, for uvicorn and for in-process tests alike.

App layer: wires the engine, the spec-driven pipelines and the middleware together.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver import control
from mockserver.conformance import ConformanceMiddleware
from mockserver.delivery import Resolver
from mockserver.engine.ids import fingerprint
from mockserver.providers.aimlapi.handlers import HANDLERS as AIMLAPI_HANDLERS
from mockserver.providers.evolink.handlers import HANDLERS as EVOLINK_HANDLERS
from mockserver.providers.evolink.wire import MIRROR_PREFIX
from mockserver.routing import SCOPE_ROUTE, ApiError, Pipeline, bearer_key
from mockserver.settings import Settings
from mockserver.state import MockState

logger = logging.getLogger("mockserver.requests")
FILE_OPERATION = "getResultVideo"


class JournalMiddleware:
    """Runs due timed effects, then records each provider and file request in the journal."""

    def __init__(self, app: ASGIApp, state: MockState) -> None:
        self.app, self.state = app, state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        engine = self.state.engine
        self.state.ensure_driver()
        engine.pump()
        self.state.deliverer.kick()
        started, status = time.perf_counter(), 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, capture)
        finally:
            provider, operation = scope.get(SCOPE_ROUTE, (None, None))
            if provider != control.SLUG:
                key = fingerprint(bearer_key(Request(scope)))
                engine.journal.record(
                    time=engine.clock.now(),
                    method=scope["method"],
                    path=scope["path"],
                    provider=provider,
                    operation=operation,
                    key=key,
                    status=status,
                )
                if self.state.settings.log_requests:
                    logger.info(
                        "%s %s %s %s %.1fms",
                        scope["method"],
                        scope["path"],
                        f"{provider}.{operation}",
                        status,
                        (time.perf_counter() - started) * 1000,
                    )


def _router_error(state: MockState):  # type: ignore[no-untyped-def]
    async def handler(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        path = request.url.path
        provider = state.provider_for_path(path)
        wire = state.wires[provider] if provider else control.ControlWire()
        request.scope[SCOPE_ROUTE] = (provider or control.SLUG, None)
        if provider is None and not path.startswith("/__mock"):
            request.scope[SCOPE_ROUTE] = (None, None)
        response = wire.error_response(request, None, ApiError(status))
        if response.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        return response

    return handler


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (RFC 9110: a 405 lists them in Allow)."""
    path = request.scope["path"]
    methods: set[str] = set()
    for route in request.app.routes:
        if isinstance(route, Route) and route.path_regex.match(path):
            methods |= route.methods or set()
    return sorted(methods)


def create_app(
    settings: Settings | None = None,
    *,
    resolver: Resolver | None = None,
    callback_transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The fake, with its own state; `app.state.mock` is the `MockState` for tests.

    `resolver` and `callback_transport` replace DNS and the network for callbacks (tests)."""
    settings = settings if settings is not None else Settings.from_env()
    state = MockState(settings, resolver=resolver, callback_transport=callback_transport)
    aimlapi = Pipeline(state.specs["aimlapi"], state.wires["aimlapi"], provider=True)
    evolink = Pipeline(state.specs["evolink"], state.wires["evolink"], provider=True)
    ops = state.specs["control"].operations
    plane = Pipeline(state.specs["control"], control.ControlWire(), provider=False)
    files = Pipeline(state.specs["control"], control.ControlWire(control.FILES), provider=False)
    routes = [
        *aimlapi.routes(AIMLAPI_HANDLERS),
        *evolink.routes(EVOLINK_HANDLERS, prefixes=("", MIRROR_PREFIX)),
        *plane.routes(control.HANDLERS, only=[op for op in ops if op != FILE_OPERATION]),
        *files.routes(control.HANDLERS, only=[FILE_OPERATION]),
    ]
    middleware = [Middleware(JournalMiddleware, state=state)]
    if settings.check_responses:
        middleware.append(Middleware(ConformanceMiddleware, specs=state.specs))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        state.ensure_driver()
        try:
            yield
        finally:
            await state.stop_driver()
            await state.deliverer.aclose()

    handler = _router_error(state)
    app = Starlette(
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers={HTTPException: handler, Exception: handler},
    )
    app.state.mock = state
    return app
