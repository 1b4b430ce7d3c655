"""Images for a create: URLs pass through; local files and bytes become base64 `data:` URIs
where the provider accepts them, checked against the documented formats and 10 MB first.

Client layer: reads local files, nothing else.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path

from client._exceptions import InvalidImageError
from client.types import Image

MAX_IMAGE_BYTES = 10 * 1024 * 1024  # both providers: up to 10 MB
_DATA_URI = re.compile(r"^data:(?P<mime>[\w/+.-]+)?(?P<params>(;[^;,]*)*?);base64,(?P<data>.*)$", re.DOTALL)


def sniff(data: bytes) -> str | None:
    """The format by its magic bytes: JPEG, PNG or WebP (the documented formats)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _checked(data: bytes, what: str) -> str:
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidImageError(f"{what} is {len(data)} bytes; the limit is 10 MB")
    mime = sniff(data)
    if mime is None:
        raise InvalidImageError(f"{what} is not a JPEG, PNG or WebP image")
    return mime


def image_url(image: Image, *, accepts_data_uri: bool, provider: str) -> str:
    """The string to send for `image`, or InvalidImageError before anything is sent."""
    if isinstance(image, str) and image.startswith(("http://", "https://")):
        return image
    if isinstance(image, str) and image.startswith("data:"):
        match = _DATA_URI.match(image)
        if match is None:
            raise InvalidImageError("a data: URI must be base64 encoded")
        try:
            data = base64.b64decode(match["data"], validate=True)
        except ValueError:
            raise InvalidImageError("the data: URI is not valid base64") from None
        _checked(data, "the data: URI image")
        if not accepts_data_uri:
            raise InvalidImageError(f"{provider} takes image URLs, not data: URIs")
        return image
    if isinstance(image, bytes):
        data, what = image, "the image"
    else:
        path = Path(image)
        if not path.is_file():
            raise InvalidImageError(f"{path} is not a URL or an existing file")
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise InvalidImageError(f"{path} is {path.stat().st_size} bytes; the limit is 10 MB")
        data, what = path.read_bytes(), str(path)
    mime = _checked(data, what)
    if not accepts_data_uri:
        raise InvalidImageError(f"{provider} takes image URLs (directly downloadable); upload {what} first")
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"
