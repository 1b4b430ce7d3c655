"""The per-key request rate limit: fixed 60 s windows of fake time.

Engine layer: pure functions; each store keeps the windows (`Window`) its own way.
"""

from __future__ import annotations

import math
from typing import NamedTuple

WINDOW_SECONDS = 60.0


class Window(NamedTuple):
    start: float
    hits: int


def hit(window: Window | None, now: float, per_minute: int) -> tuple[Window, float | None]:
    """Count one request: (the window to keep, None) if allowed, else (the window unchanged,
    whole seconds until it resets)."""
    start = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
    if window is None or window.start != start:
        window = Window(start, 0)
    if window.hits >= per_minute:
        return window, float(max(1, math.ceil(window.start + WINDOW_SECONDS - now)))
    return Window(window.start, window.hits + 1), None
