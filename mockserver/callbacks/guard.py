"""The SSRF guard for callback URLs: https only, at most 2048 characters, public addresses
only, decided without a lookup for IP literals and local names, and with an injectable resolver
for names. The attempt then connects to the address that was checked.

Callbacks layer: standard library only.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

MAX_URL_LENGTH = 2048
TARGETS_KEPT = 1024  # URLs whose lookup-free rules are remembered (a burst repeats one receiver's)
RESOLVE_TIMEOUT = 2.0  # real seconds; a name that does not answer is treated as unresolvable
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]
# inet_aton's forms of IPv4: 2130706433, 127.1, 0x7f000001, 017700000001.
_LEGACY_IPV4 = re.compile(r"^(0[xX][0-9a-fA-F]+|[0-9]+)(\.(0[xX][0-9a-fA-F]+|[0-9]+)){0,3}$")
_PATH_SAFE = "/%:@!$&'()*+,;=?~"  # kept as they are in a request target; the rest is escaped
_LOCAL_NAMES = re.compile(r"(^|\.)(localhost|localdomain)\.?$", re.IGNORECASE)


class CallbackRefused(Exception):
    """The URL breaks a rule; no connection was (or will be) opened."""


class Unresolvable(CallbackRefused):
    """The host name has no address right now (not a rule breach: a connection failure)."""


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def ip_literal(host: str) -> IPAddress | None:
    """The address a host names without any lookup, including inet_aton's odd forms and a
    trailing dot (`127.0.0.1.` is 127.0.0.1 to a resolver)."""
    host = host.removesuffix(".")
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


def _networks(*prefixes: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(prefix) for prefix in prefixes)


# The guard's own rules, written out so its verdicts are the same on every Python: the standard
# library's `is_global` changed with Python 3.13 and with patch releases of 3.11 and 3.12
# (6to4, 64:ff9b:1::/48, 192.0.0.0/24, ...) and trails IANA's special-purpose registries.
# IPv4: public unless in one of these.
NOT_PUBLIC_V4 = _networks(
    "0.0.0.0/8",  # "this network"
    "10.0.0.0/8",  # private
    "100.64.0.0/10",  # shared address space (carrier-grade NAT)
    "127.0.0.0/8",  # loopback
    "169.254.0.0/16",  # link-local, cloud metadata services
    "172.16.0.0/12",  # private
    "192.0.0.0/24",  # IETF protocol assignments (its anycast services are no callback receivers)
    "192.0.2.0/24",  # documentation
    "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
    "192.168.0.0/16",  # private
    "198.18.0.0/15",  # benchmarking
    "198.51.100.0/24",  # documentation
    "203.0.113.0/24",  # documentation
    "224.0.0.0/4",  # multicast
    "240.0.0.0/4",  # reserved, and the broadcast 255.255.255.255
)
# IPv6: public only within global unicast, and not in one of these. Link-local, unique-local,
# site-local, multicast, loopback, discard-only and SRv6 all lie outside 2000::/3.
GLOBAL_UNICAST_V6 = ipaddress.IPv6Network("2000::/3")
NOT_PUBLIC_V6 = _networks(
    "2001::/23",  # IETF protocol assignments, Teredo (2001::/32) among them: refused whatever it carries
    "2001:db8::/32",  # documentation
    "3fff::/20",  # documentation
)
# IPv6 forms that carry an IPv4 address, judged by that address alone (prefix, bits to drop):
# IPv4-mapped and IPv4-compatible (RFC 4291; `::` and `::1` are not IPv4), NAT64's well-known
# prefix (RFC 6052), 6to4 (RFC 3056, the IPv4 in bits 16-47). NAT64 for local use
# (64:ff9b:1::/48, RFC 8215) is outside global unicast: never public.
EMBEDDING_V4 = (
    (ipaddress.IPv6Network("::ffff:0:0/96"), 0),
    (ipaddress.IPv6Network("::/96"), 0),
    (ipaddress.IPv6Network("64:ff9b::/96"), 0),
    (ipaddress.IPv6Network("2002::/16"), 80),
)


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries in one of the forms of `EMBEDDING_V4`, or None."""
    for prefix, drop in EMBEDDING_V4:
        if address in prefix and int(address) > 1:
            return ipaddress.IPv4Address((int(address) >> drop) & 0xFFFFFFFF)
    return None


def local_name(host: str) -> bool:
    """`localhost`, `*.localhost`, `*.localdomain`: names that mean this machine."""
    return _LOCAL_NAMES.search(host) is not None


def is_public(address: IPAddress) -> bool:
    """A callback may go there: by the tables above, an IPv6 address that carries an IPv4 one
    by the IPv4 address alone."""
    if isinstance(address, ipaddress.IPv4Address):
        return not any(address in network for network in NOT_PUBLIC_V4)
    inner = embedded_ipv4(address)
    if inner is not None:
        return is_public(inner)
    return address in GLOBAL_UNICAST_V6 and not any(address in network for network in NOT_PUBLIC_V6)


@dataclass(frozen=True)
class Target:
    url: str
    host: str
    port: int
    allowed: bool  # a named local receiver: plain http and private addresses are fine
    tls: bool = True  # https
    netloc: str = ""  # for the Host header: the name (IDNA) and the port as the URL gives them
    path: str = "/"  # the request target: path and query, percent-encoded
    userinfo: str | None = None  # user[:password] from the URL, percent-encoded
    address: str | None = None  # the host's address when it is an IP literal (no lookup)


def _netloc(host: str, port: int | None) -> str:
    try:
        name = host if host.isascii() else host.encode("idna").decode("ascii")
    except UnicodeError:
        raise CallbackRefused(f"{host} is not a valid host name") from None
    name = f"[{name}]" if ":" in name else name
    return name if port is None else f"{name}:{port}"


class CallbackGuard:
    def __init__(self, allow_hosts: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self.allow_hosts = frozenset(h.strip("[]").lower() for h in allow_hosts)
        self.resolver = resolver or system_resolver
        self._targets: dict[str, Target] = {}

    def target(self, url: str) -> Target:
        """The rules that need no lookup: length, scheme, host, IP literals, local names (a
        pure function of the URL: the URLs that passed are remembered)."""
        target = self._targets.get(url)
        if target is None:
            target = self._target(url)
            if len(self._targets) >= TARGETS_KEPT:
                self._targets.clear()
            self._targets[url] = target
        return target

    def _target(self, url: str) -> Target:
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
        path = quote(parts.path or "/", safe=_PATH_SAFE) + (
            f"?{quote(parts.query, safe=_PATH_SAFE)}" if parts.query else ""
        )
        userinfo = parts.netloc.rpartition("@")[0] or None
        literal = ip_literal(host)
        if not allowed:
            if literal is not None and not is_public(literal):
                raise CallbackRefused(f"{host} is not a public address")
            if local_name(host):
                raise CallbackRefused(f"{host} is a local name")
        return Target(
            url,
            host,
            port or (443 if scheme == "https" else 80),
            allowed,
            tls=scheme == "https",
            netloc=_netloc(host, port),
            path=path,
            userinfo=userinfo,
            address=None if literal is None else str(literal),
        )

    async def vet(self, url: str, *, unresolvable_ok: bool = False) -> tuple[Target, str | None]:
        """All the rules; returns the target and the one address to connect to (checked)."""
        target = self.target(url)
        if target.address is not None:
            return target, target.address
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
