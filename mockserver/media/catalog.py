"""The bundled result videos: which file serves which (duration, aspect ratio).

Imports nothing from the rest of the package; the engine and the media route both read it.
"""

from __future__ import annotations

from pathlib import Path

FILES_DIR = Path(__file__).with_name("files")
DURATIONS = (5, 10)
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
# Small frames keep the files tiny; the aspect ratio is what clients and tests check.
FRAME_SIZES = {"16:9": (320, 180), "9:16": (180, 320), "1:1": (240, 240)}


def video_path(duration: int, aspect_ratio: str) -> Path:
    """The MP4 for a request; raises KeyError for a combination the fake does not make."""
    if duration not in DURATIONS or aspect_ratio not in FRAME_SIZES:
        raise KeyError((duration, aspect_ratio))
    return FILES_DIR / f"{duration}s_{aspect_ratio.replace(':', 'x')}.mp4"


def media_url(base_url: str, token: str) -> str:
    """Where the fake serves a task's result (`/files/{token}.mp4`, openapi/control.yaml)."""
    return f"{base_url.rstrip('/')}/files/{token}.mp4"
