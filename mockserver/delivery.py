"""Outbound callbacks (D12): the SSRF guard, one attempt's rules, and the retry schedule.

App layer, and the only httpx user in the fake. Every wait is on the fake's clock: the
attempt timeout and the 1/2/4 s retry delays are scheduler timers, so a manual clock runs
the whole schedule by advancing time and a speed factor scales it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mockserver.engine import Engine, Task

if TYPE_CHECKING:  # httpx is imported when the first callback is sent: it costs start-up time
    import httpx

MAX_URL_LENGTH = 2048
RESOLVE_TIMEOUT = 2.0  # real seconds; a name that does not answer is treated as unresolvable
USER_AGENT = "mockserver-callbacks/1.0"
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
# inet_aton's forms of IPv4: 2130706433, 127.1, 0x7f000001, 017700000001.
_LEGACY_IPV4 = re.compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+)(\.(0[xX][0-9a-fA-F]+|[0-9]+)){0,3}$")
_LOCAL_NAMES = re.compile(r"(^|\.)(localhost|localdomain)\.?$", re.IGNORECASE)


class CallbackRefused(Exception):
    """The URL breaks a rule; no connection was (or will be) opened."""


class Unresolvable(CallbackRefused):
    """The host name has no address right now (not a rule breach: a connection failure)."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def ip_literal(host: str) -> IPAddress | None:
    """The address a host names without any lookup, including inet_aton's odd forms."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_public(address: IPAddress) -> bool:
    """Globally routable and unicast; IPv4-mapped IPv6 is judged as the IPv4 inside."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    allowed: bool  # a named local receiver: plain http and private addresses are fine


class CallbackGuard:
    def __init__(self, allow_hosts: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self.allow_hosts = frozenset(h.strip("[]").lower() for h in allow_hosts)
        self.resolver = resolver or system_resolver

    def target(self, url: str) -> Target:
        """The rules that need no lookup: length, scheme, host, IP literals, local names."""
        if len(url) > MAX_URL_LENGTH:
            raise CallbackRefused(f"longer than {MAX_URL_LENGTH} characters")
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as error:
            raise CallbackRefused(f"not a valid URL: {error}") from None
        host = (parts.hostname or "").lower()
        if not host:
            raise CallbackRefused("no host")
        allowed = host in self.allow_hosts
        scheme = parts.scheme.lower()
        if scheme != "https" and not (allowed and scheme == "http"):
            raise CallbackRefused("must be https")
        target = Target(url, host, port or (443 if scheme == "https" else 80), allowed)
        if not allowed:
            literal = ip_literal(host)
            if literal is not None and not is_public(literal):
                raise CallbackRefused(f"{host} is not a public address")
            if _LOCAL_NAMES.search(host):
                raise CallbackRefused(f"{host} is a local name")
        return target

    async def vet(self, url: str, *, unresolvable_ok: bool = False) -> tuple[Target, str | None]:
        """All the rules; returns the target and the one address to connect to (checked)."""
        target = self.target(url)
        literal = ip_literal(target.host)
        if literal is not None:
            return target, str(literal)
        try:
            addresses = await asyncio.wait_for(self.resolver(target.host, target.port), RESOLVE_TIMEOUT)
        except (OSError, TimeoutError) as error:
            if unresolvable_ok:
                return target, None
            raise Unresolvable(f"{target.host} does not resolve: {error}") from None
        if not addresses:
            raise CallbackRefused(f"{target.host} has no addresses")
        if not target.allowed:
            for address in addresses:
                if not is_public(ipaddress.ip_address(address.split("%")[0])):
                    raise CallbackRefused(f"{target.host} resolves to {address}, not a public address")
        return target, addresses[0]


@dataclass
class Attempt:
    number: int
    time: float
    url: str
    outcome: str = "pending"  # success, http_error, redirect, timeout, connection_error, refused
    status_code: int | None = None
    duration: float = 0.0
    detail: str | None = None

    def view(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "time": self.time,
            "url": self.url,
            "outcome": self.outcome,
            "status_code": self.status_code,
            "duration": self.duration,
            "detail": self.detail,
        }


@dataclass
class Delivery:
    id: str
    task_id: str
    url: str
    body: dict[str, Any]
    state: str = "pending"  # pending, delivered, failed
    attempts: list[Attempt] = field(default_factory=list)

    def view(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "task_id": self.task_id,
            "url": self.url,
            "state": self.state,
            "body": self.body,
            "attempts": [a.view() for a in self.attempts],
        }


class Deliverer:
    """Sends each finished task's body to its callback_url, on the D12 schedule."""

    def __init__(
        self,
        engine: Engine,
        guard: CallbackGuard,
        render: Callable[[Task], dict[str, Any]],
        *,
        timeout: float = 10.0,
        retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.engine, self.guard, self.render = engine, guard, render
        self.timeout, self.retry_delays = timeout, retry_delays
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self.deliveries: list[Delivery] = []
        self._waiting: list[tuple[Delivery, int]] = []  # started outside an event loop
        engine.on_task_end(self.on_task_end)

    def reset(self) -> None:
        self.deliveries.clear()
        self._waiting.clear()

    def on_task_end(self, task: Task) -> None:
        if task.callback_url:
            self._new(task.id, task.callback_url, self.render(task))

    def redeliver(self, delivery_id: str) -> Delivery | None:
        old = next((d for d in self.deliveries if d.id == delivery_id), None)
        return None if old is None else self._new(old.task_id, old.url, old.body)

    def _new(self, task_id: str, url: str, body: dict[str, Any]) -> Delivery:
        delivery = Delivery(f"cb-{len(self.deliveries) + 1}", task_id, url, body)
        self.deliveries.append(delivery)
        self._start(delivery, 1)
        return delivery

    def kick(self) -> None:
        """Start attempts that fell due while no event loop was running."""
        if not self._waiting:  # the usual case, checked on every request
            return
        waiting, self._waiting = self._waiting, []
        for delivery, number in waiting:
            self._start(delivery, number)

    def _start(self, delivery: Delivery, number: int) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._waiting.append((delivery, number))
            return
        attempt = Attempt(number, self.engine.clock.now(), delivery.url)
        delivery.attempts.append(attempt)
        job = loop.create_task(self._run(delivery, attempt))
        timed_out = [False]

        def on_timeout() -> None:
            timed_out[0] = True
            job.cancel()

        timer = self.engine.scheduler.call_later(self.timeout, on_timeout)
        job.add_done_callback(lambda _job: self._finished(delivery, attempt, timer, timed_out[0]))
        self.engine.track(job)

    async def _run(self, delivery: Delivery, attempt: Attempt) -> None:
        try:
            target, address = await self.guard.vet(delivery.url)
        except Unresolvable as error:
            attempt.outcome, attempt.detail = "connection_error", str(error)
            return
        except CallbackRefused as refusal:
            attempt.outcome, attempt.detail = "refused", str(refusal)
            return
        import httpx

        url = httpx.URL(delivery.url)
        headers = {"Host": url.netloc.decode(), "User-Agent": USER_AGENT}
        try:
            response = await self._http().post(
                url.copy_with(host=address or target.host),
                json=delivery.body,
                headers=headers,
                extensions={"sni_hostname": target.host},
            )
        except httpx.HTTPError as error:
            attempt.outcome, attempt.detail = "connection_error", f"{type(error).__name__}: {error}"
            return
        attempt.status_code = response.status_code
        if 200 <= response.status_code < 300:
            attempt.outcome = "success"
        elif 300 <= response.status_code < 400:
            attempt.outcome, attempt.detail = "redirect", response.headers.get("location")
        else:
            attempt.outcome = "http_error"

    def _finished(self, delivery: Delivery, attempt: Attempt, timer: Any, timed_out: bool) -> None:
        timer.cancel()
        attempt.duration = round(self.engine.clock.now() - attempt.time, 6)
        if timed_out:
            attempt.outcome, attempt.detail = "timeout", f"no answer within {self.timeout:g} s"
        elif attempt.outcome == "pending":  # cancelled by a reset: nothing more to do
            attempt.outcome, attempt.detail = "connection_error", "cancelled"
            delivery.state = "failed"
            return
        if attempt.outcome == "success":
            delivery.state = "delivered"
        elif attempt.number <= len(self.retry_delays):
            delay = self.retry_delays[attempt.number - 1]
            self.engine.scheduler.call_later(delay, lambda: self._start(delivery, attempt.number + 1))
        else:
            delivery.state = "failed"

    def _http(self) -> httpx.AsyncClient:
        import httpx

        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            # No redirects, no proxies from the environment; the fake's clock owns timeouts.
            self._client = httpx.AsyncClient(
                transport=self._transport, follow_redirects=False, trust_env=False, timeout=None
            )
            self._client_loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
