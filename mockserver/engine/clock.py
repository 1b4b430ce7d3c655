"""The fake's clocks: real time (optionally scaled) and a manual clock tests move by hand.

Engine layer. Every time-dependent behaviour reads `Clock.now()`; nothing else reads time.
"""

from __future__ import annotations

import time


class Clock:
    """A source of fake time in Unix seconds, movable forward by `advance`/`jump_to`."""

    mode = "real"
    speed = 1.0

    def now(self) -> float:
        raise NotImplementedError

    def jump_to(self, when: float) -> None:
        """Move time forward to `when` (never backwards)."""
        raise NotImplementedError

    def advance(self, seconds: float) -> None:
        self.jump_to(self.now() + seconds)

    def real_seconds(self, fake_seconds: float) -> float | None:
        """Real seconds until `fake_seconds` of fake time pass by themselves; None if never."""
        raise NotImplementedError

    def reset(self) -> None:
        """Back to the start (manual) or to plain real time (real)."""
        raise NotImplementedError


class RealClock(Clock):
    """Wall-clock time, `speed` times faster, plus whatever `advance` has added."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.reset()

    def reset(self) -> None:
        self._anchor_wall = time.time()
        self._anchor_mono = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        elapsed = time.monotonic() - self._anchor_mono
        return self._anchor_wall + elapsed * self.speed + self._offset

    def jump_to(self, when: float) -> None:
        self._offset += max(0.0, when - self.now())

    def real_seconds(self, fake_seconds: float) -> float | None:
        return max(0.0, fake_seconds) / self.speed


class ManualClock(Clock):
    """Time stands still until a test (or the control plane) moves it."""

    mode = "manual"

    def __init__(self, start: float) -> None:
        self._start = start
        self._now = start

    def reset(self) -> None:
        self._now = self._start

    def now(self) -> float:
        return self._now

    def jump_to(self, when: float) -> None:
        self._now = max(self._now, when)

    def real_seconds(self, fake_seconds: float) -> float | None:
        return None
