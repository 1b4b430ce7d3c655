"""What a recording must never hold, taken out before a byte is written: keys (the Authorization
header and any header or query parameter named like a key, a token or a signature) become
their fingerprint; cookies become `redacted`; and, unless secrets are kept, the query string of
every http(s) URL in a body (signed result links, webhook tokens) becomes `?redacted`.

Upstream layer: the standard library and the engine's key fingerprint only.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from mockserver.engine.ids import fingerprint

REDACTED = "redacted"
# Header and query parameter names that carry a credential (X-Api-Key, X-Mock-Token, Cookie,
# X-Amz-Signature, ...). `authorization` is matched too, and keeps its scheme.
SECRET_NAME = re.compile(r"key|token|secret|auth|cookie|signature|sig$|session|password|credential", re.I)
# Of those, the names of keys: their values never reach a file, secrets kept or not.
KEY_NAME = re.compile(r"key|auth|password|credential", re.I)
COOKIES = frozenset({"cookie", "set-cookie"})
# An http(s) URL with a query string, in any text: up to the first character a URL in JSON or
# HTML cannot hold unescaped, JSON's escapes included (Go's encoder writes `&` as `\u0026`, some
# encoders `/` as `\/`).
_ESCAPED = r"\\/|\\u[0-9a-fA-F]{4}"
URL_QUERY = re.compile(
    rf"""(https?:(?:\\?/){{2}}(?:[^\s"'<>?#\\]|{_ESCAPED})+)\?(?:[^\s"'<>#\\]|{_ESCAPED})*""", re.I
)


def header_value(name: str, value: str) -> str:
    """A header's value as recorded."""
    lowered = name.lower()
    if lowered in COOKIES:
        return REDACTED
    if lowered in ("authorization", "proxy-authorization"):
        scheme, _, credential = value.partition(" ")
        if not credential:
            return str(fingerprint(value.strip()) or "")
        return f"{scheme} {fingerprint(credential.strip()) or ''}".rstrip()
    if SECRET_NAME.search(lowered):
        return str(fingerprint(value) or "")
    return value


def headers(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(name, header_value(name, value)) for name, value in pairs]


def request_url(url: str, *, drop_query: bool, keep_secrets: bool = False) -> str:
    """A request's URL as recorded: without its query (`?redacted`) where asked, else with the
    values of credential-like parameters fingerprinted (only keys', where secrets are kept)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    if drop_query:
        return urlunsplit(parts._replace(query=REDACTED))
    secret = KEY_NAME if keep_secrets else SECRET_NAME
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    if not any(secret.search(name) for name, _ in pairs):
        return url
    kept = [(name, str(fingerprint(value)) if secret.search(name) else value) for name, value in pairs]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def body_text(text: str, *, keep_secrets: bool) -> str:
    """A body as recorded: every http(s) URL in it loses its query string, unless kept."""
    if keep_secrets or "?" not in text:
        return text
    return URL_QUERY.sub(lambda found: f"{found.group(1)}?{REDACTED}", text)
