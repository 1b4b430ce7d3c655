"""Callback delivery on the documented schedule: when a task with a callback URL ends, its body
is POSTed there; a non-2xx answer, a timeout, a connection error or a redirect (never followed)
is a failure, retried 1 s, 2 s and 4 s after each failure, 4 attempts at most.

Callbacks layer. Every step is a timer on the fake clock (attempt due, attempt timed out), so a
manual clock runs the schedule by advancing and any process sharing the store can run it.
Attempts wait in a queue for one of a bounded number of workers; an attempt's timeout starts
when its request is sent. httpx is imported when the first client is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import ssl
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NamedTuple

from mockserver.callbacks.guard import CallbackGuard, CallbackRefused, Unresolvable
from mockserver.engine import Engine, Task
from mockserver.engine.deliveries import DELIVERED, FAILED, PENDING, Attempt, Delivery
from mockserver.engine.tasks import CallbackPlan
from mockserver.engine.timers import CALLBACK, CALLBACK_TIMEOUT, Timer

if TYPE_CHECKING:
    import httpx

USER_AGENT = "mockserver-callbacks/1.0"
# A receiver's answer is read up to this many bytes (then the connection is closed): only
# its status matters, and a receiver streaming megabytes must not cost the fake memory.
ANSWER_CAP = 64 * 1024
NO_CHAOS = CallbackPlan()
logger = logging.getLogger("mockserver.callbacks")
Render = Callable[[Task], dict[str, Any] | None]  # a task's callback body; None: no callbacks


class Outcome(NamedTuple):
    outcome: str  # success, http_error, redirect, connection_error, refused
    status_code: int | None = None
    detail: str | None = None


class _Loop:
    """What belongs to one event loop: the queue, the workers, the attempts in flight."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.queue: deque[Timer] = deque()  # claimed CALLBACK timers: attempts to make
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()
        self.workers: set[asyncio.Task[None]] = set()
        self.busy = 0
        self.inflight: dict[tuple[str, int], asyncio.Task[Outcome]] = {}
        self.clients: list[httpx.AsyncClient] = []  # one per worker (see CallbackSender._client)
        self.tls: ssl.SSLContext | None = None  # made once: loading the CA bundle is slow
        self.warmed = False


class CallbackSender:
    def __init__(
        self,
        engine: Engine,
        guard: CallbackGuard,
        render: Render,
        *,
        timeout: float = 10.0,
        retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0),
        concurrency: int = 64,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.engine, self.guard, self.render = engine, guard, render
        self.timeout, self.retry_delays, self.concurrency = timeout, retry_delays, concurrency
        self._transport = transport
        self._here: _Loop | None = None
        engine.on_task_end(self._task_ended)
        # An attempt's timer stays claimed until the attempt is recorded as sent (or needs no
        # sending), so a process that dies with attempts queued leaves them to the others.
        engine.on_timer(CALLBACK, self._attempt_due, finishes_itself=True)
        engine.on_timer(CALLBACK_TIMEOUT, self._attempt_timed_out)
        engine.on_reset(self._drop)

    # -- scheduling ----------------------------------------------------------------------

    async def _task_ended(self, task: Task) -> None:
        if not task.callback_url:
            return
        body = self.render(task)
        if body is None:
            return
        plan = task.callback_plan or NO_CHAOS  # callback chaos: dropped, sent twice, or late
        for _ in range(1 if plan.drop else plan.copies):
            await self.engine.new_delivery(
                task.id, task.callback_url, body, CALLBACK, delay=plan.delay, dropped=plan.drop
            )

    async def redeliver(self, delivery_id: str) -> Delivery | None:
        """Send a delivery's body again, as a new delivery with its own schedule."""
        old = await self.engine.delivery(delivery_id)
        if old is None:
            return None
        return await self.engine.new_delivery(old.task_id, old.url, old.body, CALLBACK)

    async def _attempt_due(self, timer: Timer) -> None:
        here = self._state()
        here.queue.append(timer)
        here.idle.clear()
        here.wake.set()
        if len(here.workers) < self.concurrency and len(here.workers) < len(here.queue) + here.busy:
            worker = here.loop.create_task(self._work(here))
            here.workers.add(worker)
            worker.add_done_callback(here.workers.discard)

    async def _attempt_timed_out(self, timer: Timer) -> None:
        here = self._here
        job = here.inflight.get((timer.subject, timer.number)) if here is not None else None
        if job is not None:
            job.cancel()  # the worker sees it cancelled and leaves the outcome to this timer
        await self._conclude(timer.subject, timer.number, Outcome("timeout", detail=self._no_answer()))

    def _no_answer(self) -> str:
        return f"no answer within {self.timeout:g} s"

    # -- the workers ---------------------------------------------------------------------

    def _state(self) -> _Loop:
        loop = asyncio.get_running_loop()
        here = self._here
        if here is None or here.loop is not loop:
            if here is not None and not here.loop.is_closed():  # one loop at a time (see Runtime)
                for task in [*here.inflight.values(), *here.workers]:
                    here.loop.call_soon_threadsafe(task.cancel)
            here = self._here = _Loop(loop)
        return here

    async def _work(self, here: _Loop) -> None:
        client = await self._client(here)
        while True:
            while not here.queue:
                if here.busy == 0:
                    here.idle.set()
                here.wake.clear()
                await here.wake.wait()
            timer = here.queue.popleft()
            here.busy += 1
            try:
                await self._attempt(here, client, timer)
            except Exception:  # a worker outlives any one delivery
                logger.exception("callback delivery %s attempt %d failed", timer.subject, timer.number)
            finally:
                here.busy -= 1
                if not here.queue and here.busy == 0:
                    here.idle.set()

    async def _attempt(self, here: _Loop, client: httpx.AsyncClient, timer: Timer) -> None:
        delivery_id, number = timer.subject, timer.number
        try:
            delivery = await self.engine.delivery(delivery_id)
            if delivery is None or delivery.state != PENDING or len(delivery.attempts) >= number:
                return  # reset, pruned, or already sent by another process
            # The rules (and any lookup) come first: an attempt's time, and its timeout, start
            # when its request is sent, not while it waits for those.
            try:
                target, address = await self.guard.vet(delivery.url)
            except CallbackRefused as refusal:
                kind = "connection_error" if isinstance(refusal, Unresolvable) else "refused"
                await self._unsent(delivery, number, Outcome(kind, detail=str(refusal)))
                return
            now = self.engine.now()
            sent = replace(delivery, attempts=(*delivery.attempts, Attempt(number, now, delivery.url)))
            deadline = Timer(now + self.timeout, CALLBACK_TIMEOUT, delivery_id, number)
            if not await self.engine.update_delivery(delivery, sent, deadline):
                return
        finally:  # sent (its timeout timer now stands for it), recorded unsent, or not to be sent
            await self.engine.finish(timer)
        job = here.loop.create_task(self._post(client, delivery, target.host, address))
        here.inflight[(delivery_id, number)] = job
        try:
            await asyncio.wait({job})
        finally:
            here.inflight.pop((delivery_id, number), None)
        if not job.cancelled():  # cancelled: the timeout timer recorded the outcome
            await self._conclude(delivery_id, number, job.result())

    async def _unsent(self, delivery: Delivery, number: int, outcome: Outcome) -> None:
        """An attempt the rules stopped before any request: recorded, then retried as any other."""
        tried = replace(
            delivery, attempts=(*delivery.attempts, Attempt(number, self.engine.now(), delivery.url))
        )
        if await self.engine.update_delivery(delivery, tried):
            await self._conclude(delivery.id, number, outcome)

    async def _conclude(self, delivery_id: str, number: int, outcome: Outcome) -> None:
        """Record attempt `number`'s outcome (once) and schedule what follows."""
        while True:
            delivery = await self.engine.delivery(delivery_id)
            if delivery is None or len(delivery.attempts) < number:
                return
            attempt = delivery.attempts[number - 1]
            if attempt.outcome != "pending":
                return  # the answer and the timeout raced: the first one stands
            now = self.engine.now()
            done = replace(
                attempt,
                outcome=outcome.outcome,
                status_code=outcome.status_code,
                detail=outcome.detail,
                duration=round(now - attempt.time, 6),
            )
            timers: tuple[Timer, ...] = ()
            if outcome.outcome == "success":
                state = DELIVERED
            elif number <= len(self.retry_delays):
                state = PENDING
                timers = (Timer(now + self.retry_delays[number - 1], CALLBACK, delivery_id, number + 1),)
            else:
                state = FAILED
            attempts = (*delivery.attempts[: number - 1], done, *delivery.attempts[number:])
            if await self.engine.update_delivery(
                delivery, replace(delivery, state=state, attempts=attempts), *timers
            ):
                return

    # -- one request ---------------------------------------------------------------------

    async def _post(
        self, client: httpx.AsyncClient, delivery: Delivery, host: str, address: str | None
    ) -> Outcome:
        """One request to the checked address, the name kept for Host and TLS (SNI)."""
        import httpx

        url = httpx.URL(delivery.url)
        headers = {"Host": url.netloc.decode(), "User-Agent": USER_AGENT}
        try:
            async with client.stream(
                "POST",
                url.copy_with(host=address or host),
                json=delivery.body,
                headers=headers,
                extensions={"sni_hostname": host},
            ) as response:
                status, location = response.status_code, response.headers.get("location")
                read = 0
                async for chunk in response.aiter_bytes():
                    read += len(chunk)
                    if read > ANSWER_CAP:
                        break
        except Exception as error:  # any failure to get an answer is the receiver's, not the fake's
            if not isinstance(error, httpx.HTTPError):
                logger.warning("callback to %s failed unexpectedly", delivery.url, exc_info=error)
            return Outcome("connection_error", detail=f"{type(error).__name__}: {error}")
        if 200 <= status < 300:
            return Outcome("success", status)
        if 300 <= status < 400:
            return Outcome("redirect", status, location)
        return Outcome("http_error", status)

    async def _client(self, here: _Loop) -> httpx.AsyncClient:
        """A worker's own client, with one connection: it sends one request at a time, and a
        shared pool rescans every connection for every request (quadratic in a burst)."""
        await self.warm()
        import httpx

        # No redirects, no proxies from the environment; the fake's clock owns timeouts.
        client = httpx.AsyncClient(
            transport=self._transport,
            verify=here.tls or True,
            follow_redirects=False,
            trust_env=False,
            timeout=None,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )
        here.clients.append(client)
        return client

    async def warm(self) -> None:
        """Import httpx and load the CA bundle off the event loop. Done when the first callback
        is due, not at start: a fake that never calls back stays 7 MB lighter (httpx, and the
        rich console its command line pulls in where rich is installed)."""
        here = self._state()
        if not here.warmed:
            if "httpx" not in sys.modules:
                await asyncio.to_thread(importlib.import_module, "httpx")
            import httpx

            if self._transport is None and here.tls is None:  # an injected transport needs none
                tls = await asyncio.to_thread(httpx.create_ssl_context)
                here.tls = here.tls or tls
            here.warmed = True

    # -- the runtime's hooks -------------------------------------------------------------

    def _drop(self) -> None:
        """Another process reset the fake: what is queued or in flight belongs to the past."""
        here = self._here
        if here is not None and not here.loop.is_closed():
            here.queue.clear()
            for job in here.inflight.values():
                here.loop.call_soon_threadsafe(job.cancel)

    async def settle(self, seconds: float) -> None:
        """Wait, for at most `seconds` of real time, until no attempt is queued or in flight."""
        here = self._here
        if here is None or here.loop is not asyncio.get_running_loop() or here.idle.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(here.idle.wait(), seconds)

    async def stop(self) -> None:
        """Drop what is queued, cancel what is in flight, and close the HTTP client."""
        here, self._here = self._here, None
        if here is None:
            return
        here.queue.clear()
        for task in [*here.inflight.values(), *here.workers]:
            task.cancel()
        if here.loop is asyncio.get_running_loop():
            await asyncio.gather(*here.inflight.values(), *here.workers, return_exceptions=True)
            for client in here.clients:
                await client.aclose()
