"""One frozen Settings object; the CLI flags and `MOCKSERVER_*` environment variables map onto it.

Imports nothing from the rest of the package.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENV_PREFIX = "MOCKSERVER_"
DEFAULT_KEY = "mock-key"
# Manual clocks start here (2026-01-01T00:00:00Z), so a seeded run is the same every time.
MANUAL_CLOCK_START = 1_767_225_600.0
# Two 10 MB images as base64 (4/3 of 20 MB) plus room for the rest of the body.
MAX_BODY_BYTES = 32 * 1024 * 1024
MEMORY_STORE = "memory"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    clock: str = "real"  # "real" (optionally scaled by `speed`) or "manual"
    speed: float = 1.0
    seed: int | None = None  # None: a random seed, printed at start
    keys: tuple[str, ...] = (DEFAULT_KEY,)
    accept_any_key: bool = False
    # Each key's balance at each provider, in that provider's own unit (EvoLink credits; AI/ML
    # API credits, about 2,000,000 per USD): one number for every provider, or by slug.
    credits: float | Mapping[str, float] | None = None  # None is unlimited
    aimlapi_usd_per_second: float = 0.112  # the model's price; credits_used follows it
    rate_limit: int = 0  # requests per minute per key; 0 is none
    evolink_errors: str = "seed"  # "seed" (integer codes) or "current" (string codes)
    queue_seconds: float = 2.0
    run_seconds: float = 77.0
    result_ttl: float = 86400.0
    task_retention: float | None = 7 * 86400.0
    aimlapi_create_status: int = 200
    retry_after: int = 1  # Retry-After of injected 429s
    max_body_bytes: int = MAX_BODY_BYTES
    clock_start: float = MANUAL_CLOCK_START
    public_url: str | None = None  # base of result links; default: the Host used, if known
    allow_hosts: tuple[str, ...] = ()  # more names the fake is reached by (control plane, links)
    control_token: str | None = None  # X-Mock-Token the control plane takes (generated off loopback)
    allow_callback_hosts: tuple[str, ...] = ()
    callback_timeout: float = 10.0
    callback_retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0)
    settle_seconds: float = 2.0  # real seconds `advance` waits for in-flight callbacks
    callback_concurrency: int = 64  # callback attempts in flight at once; the rest wait in a queue
    journal_limit: int = 20_000  # entries kept (each keeps its headers and up to journal_body_bytes)
    journal_body_bytes: int = 4096  # of each request body, and of its headers, in the journal
    max_fault_delay: float = 120.0  # the longest delay=SECONDS a fault may ask for
    # Limits for clients on the network (the server only; in-process use has no sockets).
    header_timeout: float = 10.0  # seconds for a request's line and headers to arrive
    body_timeout: float = 10.0  # longest pause while a request body arrives
    keepalive_timeout: float = 5.0  # idle seconds a kept-alive connection stays open
    shutdown_timeout: float = 5.0  # seconds a stop waits for requests in flight
    max_connections: int = 1000  # open connections; more are closed at once
    max_header_bytes: int = 64 * 1024  # request line and headers; more answers 431
    log_requests: bool = False
    log_format: str = "text"  # the `mockserver` command's log lines: "text" or "json" (one object a line)
    check_responses: bool = False  # validate every response against the spec (tests)
    store: str = MEMORY_STORE  # "memory" (this process only) or a Redis URL (shared)
    workers: int = 1  # server processes on one port (the `mockserver` command; a shared store)
    node_timeout: float = 5.0  # real seconds without a heartbeat before a process counts as gone

    def __post_init__(self) -> None:
        if self.clock not in ("real", "manual"):
            raise ValueError("clock must be 'real' or 'manual'")
        if self.speed <= 0:
            raise ValueError("speed must be positive")
        if self.evolink_errors not in ("seed", "current"):
            raise ValueError("evolink_errors must be 'seed' or 'current'")
        if self.aimlapi_create_status not in (200, 201):
            raise ValueError("aimlapi_create_status must be 200 or 201")
        balances = self.credits.values() if isinstance(self.credits, Mapping) else [self.credits]
        if self.rate_limit < 0 or any(b is not None and b < 0 for b in balances):
            raise ValueError("rate_limit and credits cannot be negative")
        for name in ("header_timeout", "body_timeout", "keepalive_timeout", "callback_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        for name in ("max_connections", "max_header_bytes", "max_body_bytes", "callback_concurrency"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.aimlapi_usd_per_second < 0:
            raise ValueError("aimlapi_usd_per_second cannot be negative")
        if self.store != MEMORY_STORE and not self.store.startswith(REDIS_SCHEMES):
            raise ValueError("store must be 'memory' or a URL redis://host:port/db (rediss://, unix://)")
        if self.workers < 1 or self.node_timeout <= 0:
            raise ValueError("workers must be at least 1 and node_timeout positive")
        if self.log_format not in ("text", "json"):
            raise ValueError("log_format must be 'text' or 'json'")

    def balance(self, provider: str) -> float | None:
        """A key's starting balance at this provider (None: unlimited, and for a provider the
        per-provider form does not name)."""
        if isinstance(self.credits, Mapping):
            return self.credits.get(provider)
        return self.credits

    @property
    def shared(self) -> bool:
        """The state lives in a store other processes can share."""
        return self.store != MEMORY_STORE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from `MOCKSERVER_<FIELD>` variables, then explicit overrides."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None:
                try:
                    values[f.name] = _parse(f.name, raw)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX}{f.name.upper()}={raw!r}: not {_kind(f.name)}") from None
        values.update(overrides)
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The `MOCKSERVER_<FIELD>` variables that give these settings back through `from_env`
        (how worker processes receive them): every field that differs from its default."""
        found = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value != f.default:
                found[ENV_PREFIX + f.name.upper()] = _format(value)
        return found


_TUPLES = {"keys", "allow_callback_hosts", "allow_hosts"}
_FLOAT_TUPLES = {"callback_retry_delays"}
_BOOLS = {"accept_any_key", "log_requests", "check_responses"}
_INTS = {
    "port",
    "rate_limit",
    "aimlapi_create_status",
    "retry_after",
    "max_body_bytes",
    "journal_limit",
    "callback_concurrency",
    "max_connections",
    "max_header_bytes",
    "workers",
    "journal_body_bytes",
}
_FLOATS = {
    "speed",
    "queue_seconds",
    "run_seconds",
    "result_ttl",
    "clock_start",
    "callback_timeout",
    "settle_seconds",
    "header_timeout",
    "body_timeout",
    "keepalive_timeout",
    "shutdown_timeout",
    "max_fault_delay",
    "aimlapi_usd_per_second",
    "node_timeout",
}
_OPTIONAL_NUMBERS = {"task_retention", "seed"}


def _parse(name: str, raw: str) -> Any:
    if name in _TUPLES:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if name in _FLOAT_TUPLES:
        return tuple(float(part) for part in raw.split(",") if part.strip())
    if name in _BOOLS:
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if name in _INTS:
        return int(raw)
    if name in _FLOATS:
        return float(raw)
    if name == "credits":
        return parse_credits(raw)
    if name in _OPTIONAL_NUMBERS:
        if raw.strip().lower() in ("", "none", "unlimited"):
            return None
        return int(raw) if name == "seed" else float(raw)
    return raw


def _kind(name: str) -> str:
    """What a variable's value must be, as the error about it says."""
    if name in _INTS:
        return "a whole number"
    if name in _FLOAT_TUPLES:
        return "a comma-separated list of numbers"
    if name == "credits":
        return "a number, slug=number pairs or 'unlimited'"
    return "a number" + (" or 'none'" if name in _OPTIONAL_NUMBERS else "")


def parse_credits(raw: str) -> float | dict[str, float] | None:
    """`14` (every provider), `evolink=14,aimlapi=1120000` (by provider) or `unlimited`."""
    raw = raw.strip()
    if raw.lower() in ("", "none", "unlimited"):
        return None
    if "=" not in raw:
        return float(raw)
    balances = {}
    for part in raw.split(","):
        slug, _, amount = part.partition("=")
        balances[slug.strip()] = float(amount)
    return balances


def _format(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)
