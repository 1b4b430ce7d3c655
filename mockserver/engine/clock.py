"""The fake's clock. Its state (mode, speed, where it stands) is data a store can share between
processes; `Clock` turns that state into the current fake time in this process.

Engine layer: imports nothing from the rest of the package and reads only the system clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class ClockState:
    """Fake time `fake` stood at real Unix time `wall`; since then it has run `speed` times
    faster than real time (mode "real") or stood still (mode "manual")."""

    mode: str
    speed: float
    fake: float
    wall: float
    version: int = 0  # bumped by every move, so a process can tell its copy is stale
    epoch: int = 0  # bumped by every reset, so a process can tell the state it holds is gone

    def now_at(self, wall_now: float) -> float:
        if self.mode == "manual":
            return self.fake
        return self.fake + (wall_now - self.wall) * self.speed

    def moved_to(self, when: float, wall_now: float) -> ClockState:
        """The state after jumping forward to `when` (never backwards)."""
        return replace(self, fake=max(when, self.now_at(wall_now)), wall=wall_now, version=self.version + 1)


def starting_state(mode: str, speed: float, manual_start: float) -> ClockState:
    """A real clock starts at the real time; a manual one at `manual_start`."""
    if mode not in ("real", "manual"):
        raise ValueError("clock must be 'real' or 'manual'")
    if speed <= 0:
        raise ValueError("speed must be positive")
    wall = time.time()
    return ClockState(mode, speed, manual_start if mode == "manual" else wall, wall)


class Clock:
    """Reads the current fake time from a ClockState, monotonically within this process."""

    __slots__ = ("_manual", "_origin", "_speed", "state")

    def __init__(self, state: ClockState) -> None:
        self.set(state)

    def set(self, state: ClockState) -> None:
        self.state = state
        # Elapsed real time is measured on the monotonic clock from here on: fake time is
        # `_origin` plus its reading times the speed, worked out here once per state rather
        # than on each of a request's reads.
        wall, mono = time.time(), time.monotonic()
        self._manual, self._speed = state.mode == "manual", state.speed
        self._origin = state.fake + (wall - state.wall - mono) * state.speed

    @property
    def mode(self) -> str:
        return self.state.mode

    @property
    def speed(self) -> float:
        return self.state.speed

    def now(self) -> float:
        if self._manual:
            return self.state.fake
        return self._origin + time.monotonic() * self._speed

    def real_seconds(self, fake_seconds: float) -> float | None:
        """Real seconds until `fake_seconds` of fake time pass by themselves; None if never."""
        if self.state.mode == "manual":
            return None
        return max(0.0, fake_seconds) / self.state.speed
