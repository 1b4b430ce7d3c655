"""The fake as one ASGI app: the compiled route table in front of the endpoints, the lifespan
of the runtime, and router-level answers (404, 405) in the envelope of the API that owns the
path.

Web layer. `app.state.mock` is the `Fake` (engine, runtime, registry) for tests.
"""

from __future__ import annotations

import time
from html import escape
from types import SimpleNamespace

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mockserver.engine.ids import fingerprint
from mockserver.web.api import Api
from mockserver.web.conformance import Conformance
from mockserver.web.errors import ApiError, error_response
from mockserver.web.host import Host
from mockserver.web.journal import record, unanswered_route
from mockserver.web.pipeline import SCOPE_ROUTE
from mockserver.web.reading import bearer
from mockserver.web.routes import Match, Router

# scope["state"][ON_STOP](): set by an answer that never ends by itself (the event stream); the
# server calls it when it starts stopping, so that the stop need not wait out its grace for it.
ON_STOP = "mock.on_stop"


class MockApp:
    def __init__(self, fake: Host, router: Router, conformance: Conformance | None = None) -> None:
        self.fake, self.router, self.conformance = fake, router, conformance
        self.state = SimpleNamespace(mock=fake)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if self.conformance is not None:  # tests: every answer checked against the spec
                send = self.conformance.watch(scope, send)
            found = self.router.match(scope["method"], scope["path"])
            if found.endpoint is not None:
                scope["path_params"] = found.params
                await found.endpoint(scope, receive, send)
            else:
                await self._unrouted(found, scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1000})

    async def _unrouted(self, found: Match, scope: Scope, receive: Receive, send: Send) -> None:
        """A redirect (an API that redirects a trailing slash), a 405 or a 404."""
        owner = found.owner or self.router.fallback
        if found.redirect is not None:
            await self._redirect(owner, found.redirect, scope, receive, send)
            return
        await self._miss(owner, scope, receive, send, found.allowed)

    async def _redirect(self, api: Api, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        """A known path with a trailing slash, where the API redirects it (Gin's default, through
        Go's `http.Redirect`): 301 with a small HTML body for GET, else an empty 307."""
        fake = self.fake
        await fake.runtime.ensure_started()
        started, arrived = time.perf_counter(), fake.engine.now()
        scope[SCOPE_ROUTE] = (api.slug, None)
        query = scope.get("query_string", b"").decode("latin-1")
        location = path + (f"?{query}" if query else "")
        if scope["method"] == "GET":
            body = f'<a href="{escape(location)}">Moved Permanently</a>.\n\n'
            response = Response(body, 301, {"Location": location}, media_type="text/html")
        else:
            response = Response(status_code=307, headers={"Location": location})
        status = response.status_code
        if api.journaled:
            record(fake, unanswered_route(fake, scope, api.slug, _key_of(scope), status, started, arrived))
        await response(scope, receive, send)

    async def _miss(
        self, api: Api, scope: Scope, receive: Receive, send: Send, allowed: tuple[str, ...]
    ) -> None:
        """No route: 405 (with `Allow`) where the path is served for other methods, else 404."""
        fake = self.fake
        await fake.runtime.ensure_started()
        started, arrived = time.perf_counter(), fake.engine.now()
        scope[SCOPE_ROUTE] = (api.slug, None)
        error = ApiError(405 if allowed else 404)
        response = error_response(
            scope, None, api.dialect, error, fake.settings.retry_after, fake.engine.clock
        )
        if allowed:
            response.headers["Allow"] = ", ".join(allowed)
        if api.journaled:
            key = _key_of(scope)
            status = response.status_code
            record(fake, unanswered_route(fake, scope, api.slug, key, status, started, arrived))
        await response(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        runtime = self.fake.runtime
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await runtime.start()
                except Exception as error:
                    await send({"type": "lifespan.startup.failed", "message": str(error)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await runtime.stop()
                if self.fake.request_log is not None:
                    self.fake.request_log.flush()
                await send({"type": "lifespan.shutdown.complete"})
                return


def _key_of(scope: Scope) -> str | None:
    """The fingerprint of the bearer key a request sent, if any (as the journal keeps it)."""
    return fingerprint(bearer(next((v for k, v in scope["headers"] if k == b"authorization"), None)))
