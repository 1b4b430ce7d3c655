"""The state one app instance owns: settings, engine, specs and wires (no globals).

App layer: builds the engine and the provider adapters from Settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

from mockserver.delivery import CallbackGuard, CallbackRefused, Deliverer, Resolver
from mockserver.engine import Engine, ManualClock, RealClock, Task, Timing
from mockserver.engine.clock import Clock
from mockserver.engine.ids import fingerprint
from mockserver.providers.aimlapi import wire as aimlapi_wire
from mockserver.providers.evolink import wire as evolink_wire
from mockserver.routing import SCOPE_KEY, ApiError, FieldError, Wire, bearer_key_of
from mockserver.settings import Settings

if TYPE_CHECKING:
    import httpx
from mockserver.spec import Spec, load_spec

# With local receivers allowed, the scheme rule moves from the schema to the callback guard.
CALLBACK_PATTERN = "/components/schemas/VideoGenerationRequest/properties/callback_url/pattern"
PROVIDERS = (aimlapi_wire.SLUG, evolink_wire.SLUG)
STATUS_WORDS = {aimlapi_wire.SLUG: aimlapi_wire.STATUS_WORDS, evolink_wire.SLUG: evolink_wire.STATUS_WORDS}
SCOPE_STARTED = "mock.started"
logger = logging.getLogger("mockserver.requests")


def make_clock(settings: Settings) -> Clock:
    if settings.clock == "manual":
        return ManualClock(settings.clock_start)
    return RealClock(settings.speed)


class MockState:
    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver | None = None,
        callback_transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings
        clock = make_clock(settings)
        self.engine = Engine(
            clock,
            timing=Timing(
                settings.queue_seconds, settings.run_seconds, settings.result_ttl, settings.task_retention
            ),
            seed=settings.seed,
            credits=settings.credits,
            rate_limit=settings.rate_limit,
            keys=settings.keys,
            accept_any_key=settings.accept_any_key,
            journal_limit=settings.journal_limit,
            settle_seconds=settings.settle_seconds,
        )
        drop = (CALLBACK_PATTERN,) if settings.allow_callback_hosts else ()
        self.specs: dict[str, Spec] = {
            "aimlapi": load_spec("aimlapi"),
            "evolink": load_spec("evolink", drop),
            "control": load_spec("control"),
        }
        self.wires: dict[str, Wire] = {
            aimlapi_wire.SLUG: aimlapi_wire.AimlapiWire(
                lambda: self.engine.ids.uuid4("request"), self.engine.clock.now
            ),
            evolink_wire.SLUG: evolink_wire.EvolinkWire(settings.evolink_errors),
        }
        self._driver: asyncio.Task[None] | None = None
        self.guard = CallbackGuard(settings.allow_callback_hosts, resolver)
        self.deliverer = Deliverer(
            self.engine,
            self.guard,
            self.callback_body,
            timeout=settings.callback_timeout,
            retry_delays=settings.callback_retry_delays,
            transport=callback_transport,
        )

    def callback_body(self, task: Task) -> dict[str, Any]:
        """D12: the callback carries the task-query body as it is when the task ends."""
        return evolink_wire.render_task(task, self.engine.observe(task), task.origin)

    def deliveries(self) -> list[dict[str, Any]]:
        return [delivery.view() for delivery in self.deliverer.deliveries]

    def redeliver(self, delivery_id: str) -> dict[str, Any] | None:
        delivery = self.deliverer.redeliver(delivery_id)
        return None if delivery is None else delivery.view()

    def provider_status(self, task: Task) -> str:
        return STATUS_WORDS[task.provider][self.engine.observe(task).status]

    def provider_for_path(self, path: str) -> str | None:
        if path.startswith("/v2/"):
            return aimlapi_wire.SLUG
        if path.startswith(("/v1/", evolink_wire.MIRROR_PREFIX + "/")):
            return evolink_wire.SLUG
        return None

    async def check_callback_url(self, url: str) -> None:
        """D12 at create time: https, at most 2048 characters, public addresses only."""
        try:
            await self.guard.vet(url, unresolvable_ok=True)
        except CallbackRefused as refusal:
            raise ApiError(
                400, param="callback_url", errors=(FieldError("callback_url", str(refusal)),)
            ) from None

    # -- per request: timed effects, the journal, the log line ----------------------------

    def before_request(self, scope: MutableMapping[str, Any]) -> None:
        """Run timed effects that fell due, and start the background driver if needed."""
        self.ensure_driver()
        self.engine.pump()
        self.deliverer.kick()
        if self.settings.log_requests:
            scope[SCOPE_STARTED] = time.perf_counter()

    def record(
        self, scope: MutableMapping[str, Any], provider: str | None, operation: str | None, status: int
    ) -> None:
        """Journal a provider or file request (control-plane requests are not journaled)."""
        raw = scope[SCOPE_KEY] if SCOPE_KEY in scope else bearer_key_of(scope)
        engine = self.engine
        engine.journal.record(
            time=engine.clock.now(),
            method=scope["method"],
            path=scope["path"],
            provider=provider,
            operation=operation,
            key=fingerprint(raw),
            status=status,
        )
        if SCOPE_STARTED in scope:
            elapsed = (time.perf_counter() - scope[SCOPE_STARTED]) * 1000
            logger.info(
                "%s %s %s.%s %s %.1fms", scope["method"], scope["path"], provider, operation, status, elapsed
            )

    # -- background driver (real and scaled clocks) -------------------------------------

    def ensure_driver(self) -> None:
        """Run timed effects in the background on the current loop (real clocks only)."""
        if self.engine.clock.mode == "manual":
            return
        loop = asyncio.get_running_loop()
        driver = self._driver
        if driver is None or driver.done() or driver.get_loop() is not loop:
            self._driver = loop.create_task(self.engine.drive())

    async def stop_driver(self) -> None:
        if self._driver is not None and not self._driver.done():
            self._driver.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._driver
        self._driver = None

    def reset(self) -> None:
        self.engine.reset()
        self.deliverer.reset()
