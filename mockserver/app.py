"""`create_app(settings)`: one Starlette app serving both providers, the control plane and
the result files, for uvicorn and for in-process tests alike.

App layer: wires the engine, the spec-driven pipelines and the error handlers together (the
journal is written by the endpoints themselves: see `routing.Endpoint`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mockserver import control
from mockserver.conformance import ConformanceMiddleware
from mockserver.delivery import Resolver
from mockserver.providers.aimlapi.handlers import HANDLERS as AIMLAPI_HANDLERS
from mockserver.providers.evolink.handlers import HANDLERS as EVOLINK_HANDLERS
from mockserver.providers.evolink.wire import MIRROR_PREFIX
from mockserver.routing import SCOPE_ROUTE, ApiError, Pipeline
from mockserver.settings import Settings
from mockserver.state import MockState

if TYPE_CHECKING:
    import httpx

FILE_OPERATION = "getResultVideo"
ErrorHandler = Callable[[Request, Exception], Awaitable[Response]]


def _router_error(state: MockState) -> ErrorHandler:
    async def handler(request: Request, exc: Exception) -> Response:
        """Router-level 404/405 and unexpected errors, in the provider's envelope."""
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        path = request.url.path
        provider = state.provider_for_path(path)
        wire = state.wires[provider] if provider else control.ControlWire()
        in_control = provider is None and path.startswith("/__mock")
        request.scope[SCOPE_ROUTE] = (control.SLUG if in_control else provider, None)
        response = wire.error_response(request, None, ApiError(status))
        if response.status_code == 405:
            response.headers["Allow"] = ", ".join(_allowed_methods(request))
        if not in_control:
            state.record(request.scope, provider, None, response.status_code)
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
    plane = Pipeline(state.specs["control"], control.ControlWire(), provider=False, journaled=False)
    files = Pipeline(state.specs["control"], control.ControlWire(control.FILES), provider=False)
    provider_routes = [
        *aimlapi.routes(AIMLAPI_HANDLERS),
        *evolink.routes(EVOLINK_HANDLERS, prefixes=("", MIRROR_PREFIX)),
    ]
    routes = [
        # Reads first: Starlette tries routes in order, and polls are most of the traffic.
        *sorted(provider_routes, key=lambda route: "GET" not in (route.methods or ())),
        *plane.routes(control.HANDLERS, only=[op for op in ops if op != FILE_OPERATION]),
        *files.routes(control.HANDLERS, only=[FILE_OPERATION]),
    ]
    middleware = []
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
