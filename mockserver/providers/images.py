"""What the real services' workers would make of an input image, judged without fetching it:
by the URL (scheme, host, extension) and, for a `data:` URI, by its bytes. Both providers
accept such a create and fail the task when its run starts (docs/fidelity.md).

Provider layer: shared by the providers; reuses the callback guard's address rules.
"""

from __future__ import annotations

import base64
import binascii
import enum
import functools
import re
from pathlib import PurePosixPath
from urllib.parse import unquote_to_bytes, urlsplit

from mockserver.callbacks.guard import ip_literal, is_public, local_name

MAX_BYTES = 10 * 1024 * 1024  # both providers document images of at most 10 MB
# Extensions of images the documented formats (JPG, JPEG, PNG, WebP) exclude.
UNSUPPORTED_SUFFIXES = frozenset({".gif", ".bmp", ".tif", ".tiff", ".svg", ".ico"})
UNDECODABLE_SUFFIXES = frozenset({".heic", ".heif", ".avif"})  # named as undecodable by EvoLink
NEVER_RESOLVES = re.compile(r"(^|\.)invalid\.?$", re.IGNORECASE)  # RFC 6761: stands for unreachable
DATA_URI = re.compile(r"^data:(?P<type>[^,;]*)(?P<params>(;[^,;]*)*),", re.IGNORECASE)
HEAD_CHARS = 24  # base64 characters enough for any of the signatures below


class ImageProblem(enum.Enum):
    UNREACHABLE = "unreachable"  # not a public http(s) URL the worker can download
    UNSUPPORTED = "unsupported"  # an image format the model does not take (GIF, BMP, ...)
    UNDECODABLE = "undecodable"  # a format the worker cannot decode (HEIC, AVIF), or not an image
    TOO_LARGE = "too_large"  # over 10 MB


def judge(url: str) -> ImageProblem | None:
    """The problem a worker would meet with this image, if any; None when it would load."""
    if url[:5].lower() == "data:":
        return _judge_data(url)
    return _judge_url(url)


@functools.lru_cache(maxsize=1024)  # creates repeat their image URLs (never data: URIs, up to 10 MB)
def _judge_url(url: str) -> ImageProblem | None:
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return ImageProblem.UNREACHABLE
    if parts.scheme.lower() not in ("http", "https") or not host:
        return ImageProblem.UNREACHABLE
    literal = ip_literal(host)
    if (literal is not None and not is_public(literal)) or local_name(host) or NEVER_RESOLVES.search(host):
        return ImageProblem.UNREACHABLE
    suffix = PurePosixPath(parts.path).suffix.lower()
    if suffix in UNSUPPORTED_SUFFIXES:
        return ImageProblem.UNSUPPORTED
    if suffix in UNDECODABLE_SUFFIXES:
        return ImageProblem.UNDECODABLE
    return None


def _judge_data(url: str) -> ImageProblem | None:
    """A `data:` URI by its bytes: the size from the length, the format from the first bytes."""
    match = DATA_URI.match(url)
    if match is None:
        return ImageProblem.UNDECODABLE
    payload = url[match.end() :]
    encoded = ";base64" in match.group("params").lower()
    size = (len(payload) * 3) // 4 - payload[-2:].count("=") if encoded else len(unquote_to_bytes(payload))
    if size > MAX_BYTES:
        return ImageProblem.TOO_LARGE
    try:
        head = base64.b64decode(payload[:HEAD_CHARS]) if encoded else unquote_to_bytes(payload[:HEAD_CHARS])
    except (binascii.Error, ValueError):
        return ImageProblem.UNDECODABLE
    return image_format_problem(head)


def image_format_problem(head: bytes) -> ImageProblem | None:
    """JPEG, PNG and WebP load; GIF is unsupported; anything else is not an image to the worker."""
    if head.startswith((b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")) or (
        head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    ):
        return None
    if head.startswith((b"GIF87a", b"GIF89a", b"BM")):
        return ImageProblem.UNSUPPORTED
    return ImageProblem.UNDECODABLE
