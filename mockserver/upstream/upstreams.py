"""The proxied providers of one fake, as the app wires them: each one's upstream URL and shape,
the HTTP clients, the create budget, the recording, the callback relay and the live drift
analysis every exchange feeds.

Upstream layer: built by `mockserver.app` from the settings and the provider registry.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

import httpx

from mockserver.callbacks.guard import CallbackGuard
from mockserver.engine import Engine
from mockserver.providers.base import Provider
from mockserver.settings import Settings
from mockserver.spec import Operation, Spec
from mockserver.upstream import har
from mockserver.upstream.drift import Analysis, Report
from mockserver.upstream.lifecycle import Profile
from mockserver.upstream.proxy import Forwarder
from mockserver.upstream.relay import Relay
from mockserver.upstream.shape import Shape
from mockserver.upstream.target import Upstream
from mockserver.web.api import Api
from mockserver.web.errors import ApiError
from mockserver.web.host import Host

logger = logging.getLogger("mockserver.upstream")
BUDGET = "upstream:creates"  # the store's tally of creates forwarded


class Upstreams:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        guard: CallbackGuard,
        registry: Mapping[str, Provider],
        specs: Mapping[str, Spec],
    ) -> None:
        self.settings, self.engine = settings, engine
        urls = settings.upstream_urls()
        unknown = sorted(set(urls) - set(registry))
        if unknown:
            raise ValueError(f"--upstream names no provider this fake serves: {', '.join(unknown)}")
        self.by_slug = {
            slug: Upstream(
                Shape.of(registry[slug], specs[slug]),
                url,
                tuple(sorted(registry[slug].mounts, key=len, reverse=True)),
            )
            for slug, url in urls.items()
        }
        self.recorder = (
            har.Recorder(settings.record, keep_secrets=settings.record_secrets) if settings.record else None
        )
        shapes = {slug: upstream.shape for slug, upstream in self.by_slug.items()}
        self.analysis = Analysis(shapes, Profile.of(settings))
        self.relay = Relay(settings, engine, guard, self)
        self.refused = 0  # creates the budget refused, by this process
        self._clients: tuple[asyncio.AbstractEventLoop, httpx.AsyncClient, httpx.AsyncClient] | None = None

    def endpoint(self, api: Api, op: Operation, fake: Host) -> Forwarder | None:
        """The endpoint of a proxied provider's operation (None: the provider is faked)."""
        upstream = self.by_slug.get(api.slug)
        return None if upstream is None else Forwarder(api, op, fake, upstream, self, self.relay)

    def client(self, *, relay: bool = False) -> httpx.AsyncClient:
        """This loop's client for the upstreams, or for the relay's callbacks (httpx's connections
        belong to the loop that made them). The upstreams' honours HTTPS_PROXY and SSL_CERT_FILE;
        the relay's connects to the address the callback guard vetted, never through a proxy."""
        loop = asyncio.get_running_loop()
        if self._clients is None or self._clients[0] is not loop:
            self._clients = (loop, self._new_client(trust_env=True), self._new_client(trust_env=False))
        _, upstream, relaying = self._clients
        return relaying if relay else upstream

    def _new_client(self, *, trust_env: bool) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            timeout=httpx.Timeout(self.settings.upstream_timeout), follow_redirects=False, trust_env=trust_env
        )

    async def spend(self, slug: str, op: Operation) -> None:
        """Count a create against the budget, or refuse it with the provider's own 429."""
        limit = self.settings.max_creates
        count = await self.engine.store.tally(BUDGET) if limit > 0 else 1
        if count <= limit:
            return
        self.refused += 1
        logger.warning(
            "upstream create budget spent: %s %s answered 429 locally (MOCKSERVER_MAX_CREATES=%d)",
            slug,
            op.id,
            limit,
        )
        raise ApiError(
            429,
            problem=f"the upstream create budget is spent: MOCKSERVER_MAX_CREATES={limit} (--max-creates) "
            "creates forwarded this run",
        )

    def observe(self, seen: har.Observed) -> har.Exchange:
        """Record an exchange (secrets out) and feed the same to the live drift analysis."""
        entry = (
            self.recorder.write(seen)
            if self.recorder is not None
            else har.entry_of(seen, keep_secrets=self.settings.record_secrets)
        )
        exchange = har.exchange_of(entry)
        self.analysis.add(exchange)
        return exchange

    def report(self) -> Report:
        return self.analysis.report(dict(self.relay.unobserved))

    async def close(self) -> None:
        """Close the clients and log the drift summary (the recording needs no closing: each
        exchange is in the file once written)."""
        clients, self._clients = self._clients, None
        if clients is not None and clients[0] is asyncio.get_running_loop():
            await clients[1].aclose()
            await clients[2].aclose()
        report = self.report()
        logger.log(logging.WARNING if report.drift else logging.INFO, "%s", report.text())
