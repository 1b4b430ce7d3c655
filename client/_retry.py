"""Retry policy as pure functions (table-tested): which failures are retried, and how long
to wait, honouring `Retry-After` (seconds or an HTTP date) before capped backoff with jitter.

Client layer: no I/O here. The defaults are the README's.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Failures where the request provably never reached the server: safe to retry a create.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 3  # retries after the first try
    initial_delay: float = 0.5  # seconds, doubled each retry
    max_delay: float = 8.0  # cap on a backoff delay
    jitter: float = 0.25  # +/- this share of the delay, at random
    max_retry_after: float = 60.0  # a longer Retry-After is not waited for: the error is raised

    def backoff(self, retry: int, rand: Callable[[], float] = random.random) -> float:
        """Delay before retry number `retry` (1-based): capped exponential, with jitter."""
        delay: float = min(self.max_delay, self.initial_delay * 2.0 ** (retry - 1))
        return max(0.0, delay * (1 + self.jitter * (2 * rand() - 1)))


def retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds the server asks to wait: `retry-after-ms`, `Retry-After` seconds or HTTP date."""
    lowered = {k.lower(): v for k, v in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if now is None:
        import time

        now = time.time()
    return max(0.0, when.timestamp() - now)


def should_retry_status(status: int, *, creates: bool) -> bool:
    """Reads retry 429 and 5xx; a create only 429 (a 5xx may have created the task)."""
    if creates:
        return status == 429
    return status in RETRYABLE_STATUSES


def should_retry_error(error: Exception, *, creates: bool) -> bool:
    """Reads retry any transport failure; a create only one that never sent the request."""
    if creates:
        return isinstance(error, NOT_SENT)
    return isinstance(error, httpx.TransportError)


def delay_for(
    policy: RetryPolicy, retry: int, server_wait: float | None, rand: Callable[[], float] = random.random
) -> float | None:
    """How long to wait before `retry`; None when the server asks for more than we wait."""
    if server_wait is not None:
        return server_wait if server_wait <= policy.max_retry_after else None
    return policy.backoff(retry, rand)
