"""Where a shared store is and how to reach it, read from its URL: the forms redis-py reads
(`redis://[[user]:password@]host[:port][/db]`, `rediss://` for TLS, `unix://[[user]:password@]/path`)
and the options it reads that apply to one connection, so a URL that worked with redis-py
means the same here. Its options for a pool of connections and their health checks are taken
and left aside (one pipelined connection has no pool; it keeps TCP keepalive on); any other
option is refused, not ignored.

Store layer: the standard library only.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

# Seconds to connect and to wait for a reply, where the store's URL does not say
# (`?socket_connect_timeout=...&socket_timeout=...`): a store that stops answering gets
# answers of 503 after this long, not requests that hang.
CONNECT_TIMEOUT, REPLY_TIMEOUT = 2.0, 5.0
DEFAULT_PORT = 6379
SCHEMES = ("redis", "rediss", "unix")
_CERT_REQS = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "required": ssl.CERT_REQUIRED}
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
OPTIONS = (
    "db",
    "username",
    "password",
    "socket_timeout",
    "socket_connect_timeout",
    "ssl_cert_reqs",
    "ssl_ca_certs",
    "ssl_certfile",
    "ssl_keyfile",
    "ssl_check_hostname",
)
POOLING = (
    "max_connections",
    "timeout",
    "health_check_interval",
    "retry_on_timeout",
    "socket_keepalive",
    "socket_read_size",
    "client_name",
)


@dataclass(frozen=True)
class Address:
    host: str  # "" for a Unix socket
    port: int
    path: str  # the Unix socket's path, "" for TCP
    db: int
    username: str | None
    password: str | None
    tls: ssl.SSLContext | None
    connect_timeout: float
    reply_timeout: float


def parse(url: str) -> Address:
    """The address a store URL names; ValueError (naming what is wrong) for one it cannot."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"a store URL starts with redis://, rediss:// or unix://, not {url.split(':', maxsplit=1)[0]}:"
        )
    options = {name: values[0] for name, values in parse_qs(parts.query).items()}  # the first, as redis-py
    unknown = sorted(set(options) - set(OPTIONS) - set(POOLING))
    if unknown:
        raise ValueError(f"the store URL has options this fake does not read: {', '.join(unknown)}")
    db = options.get("db") or (parts.path.strip("/") if parts.scheme != "unix" else "") or "0"
    return Address(
        host="" if parts.scheme == "unix" else unquote(parts.hostname or "localhost"),
        port=DEFAULT_PORT if parts.scheme == "unix" else (parts.port or DEFAULT_PORT),
        path=unquote(parts.path) if parts.scheme == "unix" else "",
        db=_db(db),
        username=options.get("username") or (unquote(parts.username) if parts.username else None),
        password=options.get("password") or (unquote(parts.password) if parts.password else None),
        tls=_tls(options) if parts.scheme == "rediss" else None,
        connect_timeout=_seconds(
            "socket_connect_timeout", options.get("socket_connect_timeout"), CONNECT_TIMEOUT
        ),
        reply_timeout=_seconds("socket_timeout", options.get("socket_timeout"), REPLY_TIMEOUT),
    )


def _db(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"the store URL's database must be a number: {text!r}")
    return int(text)


def _seconds(name: str, text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"the store URL's {name} is not a number of seconds: {text!r}") from None
    if not value > 0:
        raise ValueError(f"the store URL's {name} must be positive: {text!r}")
    return value


def _tls(options: dict[str, str]) -> ssl.SSLContext:
    """As redis-py builds it: the system's trusted certificates (or `ssl_ca_certs`), the server
    verified and its name checked unless the URL says otherwise, a client certificate if given."""
    requirement = options.get("ssl_cert_reqs", "required").lower()
    if requirement not in _CERT_REQS:
        raise ValueError(f"the store URL's ssl_cert_reqs must be none, optional or required: {requirement!r}")
    check = options.get("ssl_check_hostname", "true").lower()
    if check not in _TRUE + _FALSE:
        raise ValueError(f"the store URL's ssl_check_hostname must be true or false: {check!r}")
    try:
        context = ssl.create_default_context(cafile=options.get("ssl_ca_certs"))
        context.check_hostname = check in _TRUE and _CERT_REQS[requirement] != ssl.CERT_NONE
        context.verify_mode = _CERT_REQS[requirement]
        if "ssl_certfile" in options:
            context.load_cert_chain(options["ssl_certfile"], options.get("ssl_keyfile"))
    except OSError as error:  # a file that is not there, or not a certificate or key
        raise ValueError(f"the store URL's TLS files cannot be used: {error}") from None
    return context
