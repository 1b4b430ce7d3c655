"""Which host names the fake is reached by: loopback names, the address a connection reached,
the public URL's host and `--allow-host` names. A request naming another host (DNS rebinding,
a forged `Host`) gets no control plane and does not choose where result links point.

Web layer.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

from mockserver.settings import Settings

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def host_name(value: str) -> str:
    """`Example.com:8000` -> `example.com`; `[::1]:80` -> `::1`."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1:].split("]", 1)[0]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback(host: str) -> bool:
    name = host_name(host) if host.startswith("[") else host.lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def known_hosts(settings: Settings) -> frozenset[str]:
    """The names every connection may use (the address it reached is added per request)."""
    names = set(LOOPBACK_NAMES) | {host_name(h) for h in settings.allow_hosts}
    if settings.public_url:
        names.add(host_name(urlsplit(settings.public_url).netloc))
    return frozenset(names)


def reached_by(scope: MutableMapping[str, Any], name: str, known: frozenset[str]) -> bool:
    """Is `name` one this request may use: a known name, or the address its connection reached?"""
    return _reached(name, scope.get("server"), known)


def _reached(name: str, server: Any, known: frozenset[str]) -> bool:
    return name in known or (server is not None and name == str(server[0]).lower())


def base_url(
    scope: MutableMapping[str, Any], host_header: bytes | None, settings: Settings, known: frozenset[str]
) -> str:
    """Where links in answers point: the public URL, else the `Host` the client used when it is
    a name the fake is reached by, else the address the connection reached."""
    if settings.public_url:
        return settings.public_url.rstrip("/")
    server = scope.get("server")
    return _base_url(scope["scheme"], host_header, None if server is None else tuple(server), known)


@functools.lru_cache(maxsize=256)  # the same few (scheme, Host, address) on every request
def _base_url(
    scheme: str, raw_host: bytes | None, server: tuple[Any, ...] | None, known: frozenset[str]
) -> str:
    host_header = None if raw_host is None else raw_host.decode("latin-1")  # decoded on a miss only
    if host_header and _reached(host_name(host_header), server, known):
        return f"{scheme}://{host_header.strip()}"
    server = server or ("127.0.0.1", 80)
    host = f"[{server[0]}]" if ":" in str(server[0]) else str(server[0])
    return f"{scheme}://{host}:{server[1]}" if server[1] else f"{scheme}://{host}"
