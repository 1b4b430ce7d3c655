"""Who may use the control plane. Beyond loopback it takes a token (`X-Mock-Token`); on
loopback it stays open for local use but refuses what only a browser on another site would
send (`Origin`, `Sec-Fetch-Site`) and requests naming a host the fake is not reached by (DNS
rebinding). curl and test code send none of those, so they keep working.

Control layer.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mockserver.settings import Settings
from mockserver.web.errors import ApiError
from mockserver.web.hosts import host_name, is_loopback, known_hosts, reached_by
from mockserver.web.pipeline import SCOPE_ROUTE

TOKEN_HEADER = b"x-mock-token"
SAME_SITE = (b"same-origin", b"none")  # Sec-Fetch-Site values of a page of the fake's own, or none
# Open to any caller: container and CI probes send no token and may name any host, and the
# answer says only that the fake is ready; a proxied provider calls back through the relay with
# no token, naming the public URL's host, and the token in its path is its credential.
OPEN_OPERATIONS = frozenset({"getHealth", "relayCallback"})


def control_token(settings: Settings) -> str | None:
    """The token the control plane takes: the one given, or a fresh one when the fake is bound
    beyond loopback (shown in the banner); none on loopback unless given."""
    if settings.control_token:
        return settings.control_token
    return None if is_loopback(settings.host) else secrets.token_urlsafe(18)


@dataclass(frozen=True)
class ControlAccess:
    token: str | None
    known: frozenset[str]
    # A page of the fake's own (the dashboard) is served without the token: a browser cannot
    # send a header when it opens a page, so the page asks for the token and sends it itself.
    page: bool = False

    @classmethod
    def of(cls, settings: Settings) -> ControlAccess:
        return cls(control_token(settings), known_hosts(settings))

    def for_pages(self) -> ControlAccess:
        return ControlAccess(self.token, self.known, page=True)

    def __call__(self, scope: MutableMapping[str, Any], headers: dict[bytes, bytes]) -> ApiError | None:
        """Why this request may not use the control plane (as the answer), or None."""
        if scope.get(SCOPE_ROUTE, (None, None))[1] in OPEN_OPERATIONS:
            return None
        site = headers.get(b"sec-fetch-site")
        if site is not None and site.lower() not in SAME_SITE:
            return ApiError(403, message="a page of another site may not use the control plane")
        origin = headers.get(b"origin")
        if origin is not None:
            name = host_name(urlsplit(origin.decode("latin-1")).netloc)
            if not name or not reached_by(scope, name, self.known):
                return ApiError(403, message=f"requests from origin {origin.decode('latin-1')!r} are refused")
        if self.token is not None:
            if self.page:
                return None
            sent = headers.get(TOKEN_HEADER, b"")
            if not hmac.compare_digest(sent, self.token.encode()):
                return ApiError(
                    401, message="the control plane needs the X-Mock-Token header (see the banner)"
                )
            return None
        host = headers.get(b"host", b"").decode("latin-1")
        if not reached_by(scope, host_name(host), self.known):
            detail = f"host {host!r} is not a name the fake is reached by (add it with --allow-host)"
            return ApiError(403, message=detail)
        return None
