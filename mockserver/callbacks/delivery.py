"""Callback delivery on the documented schedule: when a task with a callback URL ends, its body
is POSTed there; a non-2xx answer, a timeout, a connection error or a redirect (never followed)
is a failure, retried 1 s, 2 s and 4 s after each failure, 4 attempts at most.

Callbacks layer. Every step is a timer on the fake clock (attempt due, attempt timed out), so a
manual clock runs the schedule by advancing and any process sharing the store can run it.
Attempts wait in a queue for one of a bounded number of slots (`flights.py`); an attempt's
timeout is its receiver's time to answer, from when its request sets off. Requests go over the
lean wire (`wire.py`), or through an injected httpx transport (imported only then).
"""

from __future__ import annotations

import asyncio
import base64
import importlib
import logging
import ssl
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import unquote

import orjson

from mockserver.callbacks.flights import Attempts, Exchanging, Flight
from mockserver.callbacks.guard import CallbackGuard, CallbackRefused, Target, Unresolvable
from mockserver.callbacks.wire import (
    ANSWER_CAP,
    Answer,
    Request,
    Wire,
    WireError,
    encode_post,
    tls_context,
)
from mockserver.engine import Engine, Task
from mockserver.engine.deliveries import DELIVERED, FAILED, PENDING, Attempt, Delivery
from mockserver.engine.tasks import CallbackPlan
from mockserver.engine.timers import CALLBACK, CALLBACK_TIMEOUT, Timer

if TYPE_CHECKING:
    import httpx

USER_AGENT = "mockserver-callbacks/1.0"
NO_CHAOS = CallbackPlan()
logger = logging.getLogger("mockserver.callbacks")
Render = Callable[[Task], dict[str, Any] | None]  # a task's callback body; None: no callbacks


class Outcome(NamedTuple):
    outcome: str  # success, http_error, redirect, connection_error, refused, timeout
    status_code: int | None = None
    detail: str | None = None


def outcome_of(answer: Answer) -> Outcome:
    if 200 <= answer.status < 300:
        return Outcome("success", answer.status)
    if 300 <= answer.status < 400:
        return Outcome("redirect", answer.status, answer.location)
    return Outcome("http_error", answer.status)


class _Here:
    """What belongs to one event loop: its attempts, its wire, its httpx client if any."""

    def __init__(self, attempts: Attempts, wire: Wire) -> None:
        self.attempts, self.wire = attempts, wire
        self.client: httpx.AsyncClient | None = None


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
        self._here: _Here | None = None
        self._tls: asyncio.Future[ssl.SSLContext] | None = None
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
        self._state().attempts.add(timer)

    # -- one attempt ---------------------------------------------------------------------

    async def _attempt(self, attempts: Attempts, timer: Timer) -> None:
        try:
            prepared = await self._prepare(attempts, timer)
        except asyncio.CancelledError:
            raise  # stopped before it was recorded: its claim goes back to the store's others
        except BaseException:
            attempts.finished(timer)
            raise
        # Recorded as sent (its deadline timer now stands for it), recorded unsent, or not to
        # be sent: the claim is done with.
        attempts.finished(timer)
        if prepared is None:
            return
        sent, target, address, deadline = prepared
        flight = Flight(self._send(sent, target, address))
        key = (sent.id, timer.number)
        attempts.took_off(key, flight)
        try:
            outcome = outcome_of(await flight.exchange.answer)
        except asyncio.CancelledError:
            if not flight.timed_out or _cancelling():
                flight.exchange.abort()  # stopped: its connection goes too
                raise
            outcome = Outcome("timeout", detail=self._no_answer())
        except Exception as error:  # any failure to get an answer is the receiver's, not the fake's
            if not isinstance(error, WireError) and not _httpx_error(error):
                logger.warning("callback to %s failed unexpectedly", sent.url, exc_info=error)
            detail = str(error) if isinstance(error, WireError) else f"{type(error).__name__}: {error}"
            outcome = Outcome("connection_error", detail=detail)
        finally:
            attempts.flights.pop(key, None)
        await attempts.pacer.turn()
        await self._conclude(sent.id, timer.number, outcome, sent, () if flight.expired else (deadline,))

    async def _prepare(self, attempts: Attempts, timer: Timer) -> tuple[Delivery, Target, str, Timer] | None:
        """The attempt recorded as sent, with where to send it and its deadline; None if it is
        not to be sent (reset, pruned, sent by another process, or stopped by the rules)."""
        await attempts.pacer.turn()
        delivery_id, number = timer.subject, timer.number
        delivery = await self.engine.delivery(delivery_id)
        if delivery is None or delivery.state != PENDING or len(delivery.attempts) >= number:
            return None
        # The rules (and any lookup) come first: an attempt's time, and its timeout, start
        # when its request is sent, not while it waits for those.
        try:
            target, address = await self.guard.vet(delivery.url)
        except CallbackRefused as refusal:
            kind = "connection_error" if isinstance(refusal, Unresolvable) else "refused"
            await self._unsent(delivery, number, Outcome(kind, detail=str(refusal)))
            return None
        now = self.engine.now()
        sent = delivery.with_attempts((*delivery.attempts, Attempt(number, now, delivery.url)))
        deadline = Timer(now + self.timeout, CALLBACK_TIMEOUT, delivery_id, number)
        if not await self.engine.update_delivery(delivery, sent, deadline):
            return None
        return sent, target, address or target.host, deadline

    async def _unsent(self, delivery: Delivery, number: int, outcome: Outcome) -> None:
        """An attempt the rules stopped before any request: recorded, then retried as any other."""
        tried = delivery.with_attempts((*delivery.attempts, Attempt(number, self.engine.now(), delivery.url)))
        if await self.engine.update_delivery(delivery, tried):
            await self._conclude(delivery.id, number, outcome, tried)

    async def _attempt_timed_out(self, timer: Timer) -> None:
        """An attempt's deadline passed. One in flight here is cut by its own attempt, once
        the receiver has had its time: an answer already at the socket is read first, and on a
        real clock a request the fake was late to send gets what it is owed of the timeout.
        One that is not (another process's, or lost with its process) is recorded here."""
        here = self._here
        flight = here.attempts.flights.get((timer.subject, timer.number)) if here is not None else None
        if flight is None:
            await self._conclude(timer.subject, timer.number, Outcome("timeout", detail=self._no_answer()))
            return
        flight.expired = True  # this timer is spent: its attempt will not drop it
        if not flight.answered():
            await asyncio.sleep(0)
        owed = self.engine.clock.real_seconds(self.timeout)
        loop = asyncio.get_running_loop()
        left = 0.0 if owed is None else flight.exchange.started + owed - loop.time()
        if left > 0:
            loop.call_later(left, flight.time_out)
        else:
            flight.time_out()

    def _no_answer(self) -> str:
        return f"no answer within {self.timeout:g} s"

    async def _conclude(
        self,
        delivery_id: str,
        number: int,
        outcome: Outcome,
        held: Delivery | None = None,
        cancel: tuple[Timer, ...] = (),
    ) -> None:
        """Record attempt `number`'s outcome (once), schedule what follows and drop the timers
        in `cancel`; `held` is the delivery as this process last stored it, if it knows."""
        delivery = held
        while True:
            if delivery is None:
                delivery = await self.engine.delivery(delivery_id)
            if delivery is None or len(delivery.attempts) < number:
                return
            attempt = delivery.attempts[number - 1]
            if attempt.outcome != "pending":
                return  # the answer and the timeout raced: the first one stands
            now = self.engine.now()
            done = attempt.concluded(outcome.outcome, outcome.status_code, outcome.detail, now)
            timers: tuple[Timer, ...] = ()
            if outcome.outcome == "success":
                state = DELIVERED
            elif number <= len(self.retry_delays):
                state = PENDING
                timers = (Timer(now + self.retry_delays[number - 1], CALLBACK, delivery_id, number + 1),)
            else:
                state = FAILED
            attempts = (*delivery.attempts[: number - 1], done, *delivery.attempts[number:])
            new = delivery.with_attempts(attempts, state)
            if await self.engine.update_delivery(delivery, new, *timers, cancel=cancel):
                return
            delivery = None  # changed meanwhile: read it again

    # -- one request ---------------------------------------------------------------------

    def _send(self, delivery: Delivery, target: Target, address: str) -> Exchanging:
        """The request on its way to the checked address, the name kept for Host and TLS."""
        here = self._state()
        if self._transport is not None:
            return _Task(here.attempts.loop, self._post_httpx(here, delivery, target.host, address))
        headers: tuple[tuple[str, str], ...] = (
            ("User-Agent", USER_AGENT),
            ("Accept", "*/*"),
            ("Content-Type", "application/json"),
        )
        if target.userinfo:  # as any HTTP client does with a URL's credentials
            basic = base64.b64encode(unquote(target.userinfo).encode()).decode()
            headers += (("Authorization", f"Basic {basic}"),)
        body = orjson.dumps(delivery.body)
        data = encode_post(target.path, target.netloc, body, headers)
        return here.wire.exchange(Request(target.tls, address, target.port, target.host, data))

    async def _post_httpx(self, here: _Here, delivery: Delivery, host: str, address: str) -> Answer:
        """One request through the injected transport (in-process receivers, tests)."""
        if here.client is None:
            if "httpx" not in sys.modules:
                await asyncio.to_thread(importlib.import_module, "httpx")
            import httpx

            # No redirects, no proxies from the environment; the fake's clock owns timeouts.
            here.client = httpx.AsyncClient(
                transport=self._transport, follow_redirects=False, trust_env=False, timeout=None
            )
        import httpx

        url = httpx.URL(delivery.url)
        headers = {"Host": url.netloc.decode(), "User-Agent": USER_AGENT}
        request = here.client.build_request(
            "POST",
            url.copy_with(host=address),
            json=delivery.body,
            headers=headers,
            extensions={"sni_hostname": host},
        )
        response = await here.client.send(request, stream=True)
        try:
            read = 0
            async for chunk in response.aiter_bytes():
                read += len(chunk)
                if read > ANSWER_CAP:
                    break
            return Answer(response.status_code, response.headers.get("location"))
        finally:
            await response.aclose()

    async def _tls_context(self) -> ssl.SSLContext:
        """Made once, off the event loop (reading the CA bundle is slow), when first needed."""
        if self._tls is None:
            self._tls = asyncio.ensure_future(asyncio.to_thread(tls_context))
        return await asyncio.shield(self._tls)

    # -- this loop's state, and the runtime's hooks --------------------------------------

    def _state(self) -> _Here:
        loop = asyncio.get_running_loop()
        here = self._here
        if here is None or here.attempts.loop is not loop:
            if here is not None and not here.attempts.loop.is_closed():  # one loop at a time
                here.attempts.loop.call_soon_threadsafe(here.attempts.cancel)
                here.attempts.loop.call_soon_threadsafe(here.wire.close)
            attempts = Attempts(loop, self.concurrency, self._attempt, self.engine.finish)
            here = self._here = _Here(attempts, Wire(self._tls_context, self.concurrency))
        return here

    def _drop(self) -> None:
        """Another process reset the fake: what is queued or in flight belongs to the past."""
        here = self._here
        if here is not None and not here.attempts.loop.is_closed():
            here.attempts.loop.call_soon_threadsafe(here.attempts.cancel)

    async def settle(self, allowance: float) -> None:
        """Wait until every attempt due has been sent and every request has its answer or has
        had `allowance` real seconds for it (a receiver slower than that is left to its timeout),
        so fake time moves on only past what the receivers have answered."""
        here = self._here
        if here is not None and here.attempts.loop is asyncio.get_running_loop():
            await here.attempts.settle(allowance)

    async def stop(self) -> None:
        """Drop what is queued, cancel what is under way, and close the connections."""
        here, self._here = self._here, None
        if here is None:
            return
        loop = here.attempts.loop
        here.attempts.cancel()
        if loop is asyncio.get_running_loop():
            await asyncio.gather(*here.attempts.active, return_exceptions=True)
            await here.attempts.drain()
            if here.client is not None:
                await here.client.aclose()
            here.wire.close()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(here.wire.close)


class _Task:
    """An httpx request as an exchange: its task is its answer."""

    __slots__ = ("answer", "started")

    def __init__(self, loop: asyncio.AbstractEventLoop, request: Any) -> None:
        self.answer: asyncio.Future[Answer] = loop.create_task(request)
        self.started = loop.time()

    def abort(self) -> None:
        self.answer.cancel()


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _httpx_error(error: Exception) -> bool:
    httpx = sys.modules.get("httpx")
    return httpx is not None and isinstance(error, httpx.HTTPError)
