"""Where a proxied provider's requests go (`Upstream`: its shape, its real service's URL, its
mounts), and what the proxy and the relay need of the proxied providers as a whole (`Hub`: the
clients, the budget, the recording and drift analysis), as a narrow protocol.

Upstream layer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from starlette.types import Scope

from mockserver.spec import Operation
from mockserver.upstream.har import Exchange, Observed
from mockserver.upstream.shape import Shape

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True, eq=False)
class Upstream:
    shape: Shape
    url: str  # the real service's base URL (it may carry a path), no trailing slash
    mounts: tuple[str, ...]  # the provider's mount prefixes, longest first

    @property
    def slug(self) -> str:
        return self.shape.slug

    def target(self, scope: Scope) -> str:
        """The upstream URL of a request: the base URL, the path under the provider's mount
        (as sent, escapes kept), and the query."""
        raw: bytes = scope.get("raw_path") or scope["path"].encode()
        path = raw.decode("latin-1")
        mount = next((m for m in self.mounts if m and path.startswith(m + "/")), "")
        query = scope.get("query_string", b"").decode("latin-1")
        return self.url + path[len(mount) :] + (f"?{query}" if query else "")


class Hub(Protocol):
    @property
    def by_slug(self) -> Mapping[str, Upstream]: ...

    def client(self, *, relay: bool = False) -> httpx.AsyncClient:
        """This loop's client for the upstreams (or the relay's callbacks)."""

    async def spend(self, slug: str, op: Operation) -> None:
        """Count a create against the budget, or refuse it (ApiError 429)."""

    def observe(self, seen: Observed) -> Exchange:
        """Record an exchange and feed it to the drift analysis."""
