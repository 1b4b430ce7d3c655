"""The bundled result videos: which file serves which (duration, aspect ratio).

Imports nothing from the rest of the package; the engine and the media route both read it.
"""

from __future__ import annotations

from pathlib import Path

FILES_DIR = Path(__file__).with_name("files")
DURATIONS = (5, 10)
ASPECT_RATIOS = ("16:9", "9:16", "1:1")
# The documented output is 1920x1080; portrait and square keep its 1080-pixel short side.
FRAME_SIZES = {"16:9": (1920, 1080), "9:16": (1080, 1920), "1:1": (1080, 1080)}


def video_path(duration: int, aspect_ratio: str) -> Path:
    """The MP4 for a request; raises KeyError for a combination the fake does not make."""
    if duration not in DURATIONS or aspect_ratio not in FRAME_SIZES:
        raise KeyError((duration, aspect_ratio))
    return FILES_DIR / f"{duration}s_{aspect_ratio.replace(':', 'x')}.mp4"


def media_url(base_url: str, token: str) -> str:
    """Where the fake serves a task's result (`/files/{token}.mp4`, openapi/control.yaml)."""
    return f"{base_url.rstrip('/')}/files/{token}.mp4"
