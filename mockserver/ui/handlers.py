"""The dashboard's two operations (openapi/control.yaml: getDashboard, getDashboardAsset): the
page and its files, read once from the package, with headers that keep the page to the fake.

App layer: handlers over package data; nothing of the engine.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from urllib.parse import urlsplit

from starlette.responses import Response

from mockserver.web.errors import ApiError
from mockserver.web.pipeline import Call

PAGE = "index.html"
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Nothing from elsewhere: scripts, styles and data from the fake only, no inline script or
# style, no framing (clickjacking), no form posting away. `data:` images for the blank favicon.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; media-src 'self'{media}; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


@functools.cache
def _files() -> dict[str, bytes]:
    """Every file of the page, by name (a few dozen kilobytes, read once)."""
    folder = files(__package__ or "mockserver.ui") / "static"
    return {entry.name: entry.read_bytes() for entry in folder.iterdir() if entry.name[0] != "."}


def _headers(call: Call) -> dict[str, str]:
    # Result videos come from the public URL when one is set (a CDN-like host for the files).
    public = call.settings.public_url
    media = f" {urlsplit(public).scheme}://{urlsplit(public).netloc}" if public else ""
    return {
        "Content-Security-Policy": POLICY.format(media=media),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def _file(call: Call, name: str) -> Response:
    body = _files().get(name)
    suffix = name[name.rfind(".") :]
    if body is None or suffix not in TYPES:
        raise ApiError(404, message=f"the dashboard has no file {name!r}")
    return Response(body, media_type=TYPES[suffix], headers=_headers(call))


async def get_dashboard(call: Call) -> Response:
    return _file(call, PAGE)


async def get_dashboard_asset(call: Call) -> Response:
    return _file(call, call.params["asset"])
