"""One frozen Settings object; the CLI flags and `MOCKSERVER_*` environment variables map onto it.

Imports nothing from the rest of the package.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

ENV_PREFIX = "MOCKSERVER_"
DEFAULT_KEY = "mock-key"
# Manual clocks start here (2026-01-01T00:00:00Z), so a seeded run is the same every time.
MANUAL_CLOCK_START = 1_767_225_600.0
# Two 10 MB images as base64 (4/3 of 20 MB) plus room for the rest of the body.
MAX_BODY_BYTES = 32 * 1024 * 1024
MEMORY_STORE = "memory"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")
# Field metadata: what a setting does (`doc`), its default as a reader sees it (`shown`), and
# its group (`group`: the network limits, which only the server has).
DOC, SHOWN, GROUP = "doc", "shown", "group"
NETWORK = "network"
T = TypeVar("T")


def _setting(default: T, doc: str, *, shown: str | None = None, group: str | None = None) -> T:
    metadata = {DOC: doc} | ({SHOWN: shown} if shown else {}) | ({GROUP: group} if group else {})
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    """Each field's `doc` (and `shown`, its default as a reader sees it) is what `mockserver --help`
    and docs/configuration.md say of it (docs/generate.py writes the page's tables)."""

    host: str = _setting(
        "127.0.0.1", "Where to listen; beyond loopback, the control plane takes a token (`X-Mock-Token`)."
    )
    port: int = _setting(8000, "The port to listen on; 0 takes a free one, and the banner names it.")
    clock: str = _setting(
        "real",
        "`real`: fake time follows real time (scaled by the speed); `manual`: time moves only by "
        "`POST /__mock/clock/advance` (starting at 2026-01-01T00:00:00Z).",
    )
    speed: float = _setting(1.0, "Fake time runs this many times faster than real time.")
    seed: int | None = _setting(
        None,
        "Seed for ids and fault draws: the same seed gives the same ids and journal (with a manual clock).",
        shown="random, printed at start",
    )
    keys: tuple[str, ...] = _setting(
        (DEFAULT_KEY,), "Accepted API keys, comma-separated (or the flag repeated).", shown=DEFAULT_KEY
    )
    accept_any_key: bool = _setting(
        False, "Accept any non-empty bearer key (drop-in use, parallel test keys)."
    )
    credits: float | Mapping[str, float] | None = _setting(
        None,
        "Each key's balance at each provider, in that provider's own unit: N for every provider, or "
        "`evolink=N,aimlapi=M`. EvoLink: 7 per 5 s video, 14 per 10 s; AI/ML API: 2,000,000 per USD "
        "(1,120,000 per 5 s video at the default price). Spent, it answers evolink 402, aimlapi 403.",
        shown="unlimited",
    )
    aimlapi_usd_per_second: float = _setting(
        0.112, "The AI/ML API model's price: its `credits_used` is this x seconds x 2,000,000."
    )
    rate_limit: int = _setting(0, "Requests per minute per key, then 429 with `Retry-After`; 0 means none.")
    evolink_errors: str = _setting(
        "seed",
        "`seed`: EvoLink's integer error codes (the seed document); `current`: its current string codes "
        "(and only the statuses its current documentation lists are injected).",
    )
    queue_seconds: float = _setting(2.0, "Fake seconds a task is queued.")
    run_seconds: float = _setting(77.0, "Fake seconds a task runs, after its queue.")
    result_ttl: float = _setting(86400.0, "Fake seconds a result file is served after completion.")
    task_retention: float | None = _setting(
        7 * 86400.0,
        "Fake seconds a task is kept after it ends (then pruned, with its file and callbacks); "
        "`none` keeps every task.",
    )
    aimlapi_create_status: int = _setting(
        200, "The AI/ML API create's status: or 201, as the gateway's older specs say."
    )
    retry_after: int = _setting(
        1, "`Retry-After` seconds of injected 429s (a fault rule's `retry_after` wins)."
    )
    max_body_bytes: int = _setting(
        MAX_BODY_BYTES, "Request body (two 10 MB images as base64 fit); more answers 413.", group=NETWORK
    )
    clock_start: float = _setting(MANUAL_CLOCK_START, "Where a manual clock starts (Unix seconds).")
    public_url: str | None = _setting(
        None,
        "The fake's own address as others reach it: the base of result links, and of the callback relay "
        "a proxied provider calls back (`--upstream`). Without it a link uses the `Host` the client sent if "
        "the fake is reached by that name (loopback names, the address reached, `--allow-host`), else the "
        "address the connection reached; and a proxied create's callback URL passes through unobserved.",
    )
    allow_hosts: tuple[str, ...] = _setting(
        (),
        "Another name the fake is reached by, e.g. behind a proxy (repeatable): the control plane takes "
        "it, result links may use it.",
    )
    control_token: str | None = _setting(
        None,
        "The `X-Mock-Token` the control plane takes.",
        shown="none on loopback, generated beyond it",
    )
    allow_callback_hosts: tuple[str, ...] = _setting(
        (), "Let callbacks reach this host, plain http included (repeatable); the real service forbids it."
    )
    callback_timeout: float = _setting(
        10.0, "Fake seconds a callback attempt may take, from when its request is sent."
    )
    callback_retry_delays: tuple[float, ...] = _setting(
        (1.0, 2.0, 4.0), "Fake seconds before each callback retry."
    )
    settle_seconds: float = _setting(
        2.0,
        "Real seconds each callback request gets to answer before `POST /__mock/clock/advance` moves "
        "fake time past it (an advance first sends every attempt that falls due).",
    )
    callback_concurrency: int = _setting(64, "Callback attempts in flight at once; the rest wait in a queue.")
    journal_limit: int = _setting(20_000, "Journal entries kept (the oldest go first).")
    journal_body_bytes: int = _setting(
        4096,
        "Bytes of each request body the journal keeps, and of its headers (later ones are left out, "
        "and the entry says so).",
    )
    max_fault_delay: float = _setting(
        120.0, "The longest `delay=SECONDS` a fault may ask for (real seconds)."
    )
    header_timeout: float = _setting(
        10.0,
        "Real seconds for a request's line and headers to arrive (from the connection's first byte); "
        "else the connection is closed.",
        group=NETWORK,
    )
    body_timeout: float = _setting(
        10.0,
        "The longest pause (real seconds) while a body arrives; else the connection is closed.",
        group=NETWORK,
    )
    keepalive_timeout: float = _setting(
        5.0, "Real seconds an idle kept-alive connection stays open.", group=NETWORK
    )
    shutdown_timeout: float = _setting(
        5.0, "Real seconds a stop waits for requests in flight.", group=NETWORK
    )
    max_connections: int = _setting(1000, "Open connections; more are closed at once.", group=NETWORK)
    max_header_bytes: int = _setting(
        64 * 1024, "Request line and headers; more answers 431 and closes.", group=NETWORK
    )
    log_requests: bool = _setting(
        False, "One log line per request on stderr (the command's `--log-level info` turns it on)."
    )
    log_format: str = _setting(
        "text", "`json`: one JSON object per log line (time, level, logger, message, fields); else `text`."
    )
    check_responses: bool = _setting(
        False, "Validate every response against the spec, as the test suite does."
    )
    store: str = _setting(
        MEMORY_STORE,
        "`memory`: state in this process; `redis://host:port/db` (also `rediss://`, `unix://`): state in "
        "Redis or Valkey, shared by every process using it.",
    )
    workers: int = _setting(
        1, "Server processes on one port; above 1 needs a shared store (`--store redis://...`)."
    )
    upstreams: tuple[str, ...] = _setting(
        (),
        "`PROVIDER=URL` (repeatable, or comma-separated): forward that provider's requests to its real "
        "service at URL with the caller's own key, check both ways against the spec, and report drift "
        "(docs/upstream.md). Other providers stay faked.",
        shown="none",
    )
    max_creates: int = _setting(
        20,
        "Creates forwarded to upstreams in this run, by every process sharing the store (a reset keeps "
        "the count); beyond, the provider's own 429 answers locally. 0 forwards none.",
    )
    upstream_timeout: float = _setting(
        60.0, "Real seconds an upstream may take to answer (to connect, and between reads); then 502."
    )
    record: str | None = _setting(
        None,
        "Record every proxied exchange (and relayed callback) to this HAR 1.2 file as it happens; an "
        "existing recording is continued. Keys become fingerprints.",
    )
    record_secrets: bool = _setting(
        False,
        "Keep URL query strings (signed result links, webhook tokens) in the recording; keys are "
        "fingerprinted all the same.",
    )
    drift_time_factor: float = _setting(
        3.0,
        "How far (a factor either way) a recorded queue or run time may be from the fake's "
        "(`queue_seconds`, `run_seconds`, at its speed) before the drift report calls it drift.",
    )
    node_timeout: float = _setting(
        5.0,
        "Real seconds without a heartbeat after which a process sharing a Redis store counts as gone "
        "(the timed effects it had claimed are run by another).",
    )
    events_queue: int = _setting(
        1000,
        "Events waiting for one subscriber of `GET /__mock/events`; one that falls further behind is cut "
        "off (its stream ends, and it comes back with `Last-Event-ID`).",
    )
    events_history: int = _setting(10_000, "Events kept for subscribers that come back with `Last-Event-ID`.")
    events_progress_step: int = _setting(
        10, "Percent of progress between two `task.changed` events of a running task (1 to 100)."
    )
    events_ping: float = _setting(
        5.0, "Real seconds of quiet after which the event stream sends a `: ping` comment."
    )
    replay: tuple[str, ...] = _setting(
        (),
        "Recordings (HAR files) to replay: a create that matches a recorded create gets its recorded "
        "lifecycle, a request that was answered with an error gets that answer (comma-separated, or "
        "the flag repeated).",
        shown="none",
    )
    replay_strict: bool = _setting(
        False, "With recordings to replay: a create that matches none is refused (400), naming the closest."
    )

    def __post_init__(self) -> None:
        if isinstance(self.replay, str):  # one path, as a pytest marker gives it
            object.__setattr__(self, "replay", (self.replay,))
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
        if self.events_queue < 1 or self.events_history < 1 or not 1 <= self.events_progress_step <= 100:
            raise ValueError("events_queue and events_history must be at least 1; events_progress_step 1-100")
        if self.events_ping <= 0:
            raise ValueError("events_ping must be positive")
        if self.log_format not in ("text", "json"):
            raise ValueError("log_format must be 'text' or 'json'")
        self.upstream_urls()  # each PROVIDER=URL well formed
        if self.max_creates < 0 or self.upstream_timeout <= 0 or self.drift_time_factor <= 1:
            raise ValueError(
                "max_creates cannot be negative, upstream_timeout must be positive, drift_time_factor above 1"
            )

    def upstream_urls(self) -> dict[str, str]:
        """The upstreams by provider slug (`PROVIDER=URL`), each URL without a trailing slash."""
        found = {}
        for pair in self.upstreams:
            slug, _, url = pair.partition("=")
            parts = urlsplit(url.strip())
            if not slug.strip() or parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"upstream {pair!r}: not PROVIDER=URL with an http(s) URL")
            if parts.query or parts.fragment:
                raise ValueError(f"upstream {pair!r}: the URL may carry a path, not a query")
            found[slug.strip()] = url.strip().rstrip("/")
        return found

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


_TUPLES = {"keys", "allow_callback_hosts", "allow_hosts", "replay", "upstreams"}
_FLOAT_TUPLES = {"callback_retry_delays"}
_BOOLS = {"accept_any_key", "log_requests", "check_responses", "replay_strict", "record_secrets"}
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
    "events_queue",
    "events_history",
    "events_progress_step",
    "max_creates",
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
    "events_ping",
    "upstream_timeout",
    "drift_time_factor",
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
