"""A shared store's coming and going: what a store that is down or out of reach raises, the
neutral `StoreUnavailable` its verbs raise instead, and one log line when it goes away and one
when it is back (the connection opens again by itself on the next command).

Store layer: imports the engine's errors only.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar
from urllib.parse import urlsplit

from mockserver.engine.errors import StoreUnavailable

# What a store that is down or out of reach raises (`connection.py`): refused, lost, timed out.
UNREACHABLE = (OSError,)
logger = logging.getLogger("mockserver.store")


def where(url: str) -> str:
    """The store's URL for people: without credentials or options."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return parts._replace(netloc=netloc, query="", fragment="").geturl()


class Reach:
    """Whether the store answers, as the commands find it; a change is logged, once. Only a
    command sent since the last change can change it again: one sent before an outage was
    noticed may still get its answer, and does not mean the store is back."""

    def __init__(self, url: str) -> None:
        self.where = where(url)
        self.down = False
        self.changes = 0  # times `down` has flipped; a command notes it when sent

    def failed(self, error: BaseException, sent_at: int) -> StoreUnavailable:
        """The error for a command (sent at change `sent_at`) that could not reach the store."""
        if not self.down and sent_at == self.changes:
            self.down, self.changes = True, self.changes + 1
            logger.warning(
                "the store at %s does not answer (%s); refusing requests until it is back", self.where, error
            )
        return StoreUnavailable(self.where)

    def worked(self, sent_at: int) -> None:
        """A command sent at change `sent_at` got its answer."""
        if self.down and sent_at == self.changes:
            self.down, self.changes = False, self.changes + 1
            logger.warning("the store at %s answers again", self.where)


class Reaching(Protocol):
    reach: Reach


_S = TypeVar("_S", bound=Reaching)
_P = ParamSpec("_P")
_T = TypeVar("_T")


def reaching(
    verb: Callable[Concatenate[_S, _P], Awaitable[_T]],
) -> Callable[Concatenate[_S, _P], Coroutine[Any, Any, _T]]:
    """A store verb that raises `StoreUnavailable` where the store cannot be reached."""

    @functools.wraps(verb)
    async def reached(store: _S, /, *args: _P.args, **kwargs: _P.kwargs) -> _T:
        sent_at = store.reach.changes
        try:
            result = await verb(store, *args, **kwargs)
        except UNREACHABLE as error:
            raise store.reach.failed(error, sent_at) from None
        if store.reach.down:
            store.reach.worked(sent_at)
        return result

    return reached
