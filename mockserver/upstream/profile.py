"""The lifecycle a recording shows, per provider: queue time, run time, progress over the run and
the failure codes seen, beside the fake's settings, and the `MOCKSERVER_*` settings that would
make the fake's default lifecycle match (`contracts profile FILE.har`).

Upstream layer: reads the trails the drift analysis keeps.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from mockserver.engine import TaskStatus
from mockserver.settings import Settings
from mockserver.upstream.lifecycle import Trail

BUCKETS = 10  # progress is shown over tenths of the run


@dataclass(frozen=True)
class Spread:
    """Times a recording bounds (each task's interval, its midpoint taken)."""

    times: tuple[float, ...]

    @classmethod
    def of(cls, intervals: Iterable[tuple[float, float] | None]) -> Spread:
        return cls(tuple(sorted((low + high) / 2 for low, high in (i for i in intervals if i is not None))))

    @property
    def median(self) -> float | None:
        return statistics.median(self.times) if self.times else None

    def text(self) -> str:
        if not self.times:
            return "not seen (no task was seen on both sides of the change)"
        return (
            f"median {self.median:.1f} s ({self.times[0]:.1f}-{self.times[-1]:.1f} s over {len(self.times)} "
            f"task{'s' if len(self.times) != 1 else ''})"
        )


@dataclass(frozen=True)
class ProviderProfile:
    provider: str
    trails: tuple[Trail, ...]

    @property
    def queue(self) -> Spread:
        return Spread.of(t.queue_time() for t in self.trails)

    @property
    def run(self) -> Spread:
        return Spread.of(t.run_time() for t in self.trails)

    def outcomes(self) -> Counter[str]:
        return Counter(
            outcome.value if (outcome := t.outcome()) is not None else "unfinished" for t in self.trails
        )

    def failures(self) -> Counter[str]:
        return Counter(code for t in self.trails for code in t.failures())

    def progress(self, run: float) -> list[tuple[int, float | None, int]]:
        """For each tenth of a run of `run` seconds: the median progress recorded there (None:
        no sample) and how many samples."""
        samples: list[list[float]] = [[] for _ in range(BUCKETS)]
        for trail in self.trails:
            started = trail.started()
            if started is None:
                continue
            begun = (started[0] + started[1]) / 2
            for sighting in trail.sightings:
                if sighting.status is TaskStatus.RUNNING and sighting.progress is not None:
                    tenth = int((sighting.at - begun) / run * BUCKETS) if run > 0 else 0
                    samples[min(max(tenth, 0), BUCKETS - 1)].append(sighting.progress)
        return [(i, statistics.median(s) if s else None, len(s)) for i, s in enumerate(samples)]


def profiles(trails: Iterable[Trail]) -> list[ProviderProfile]:
    by_provider: dict[str, list[Trail]] = {}
    for trail in trails:
        by_provider.setdefault(trail.provider, []).append(trail)
    return [ProviderProfile(slug, tuple(found)) for slug, found in sorted(by_provider.items())]


def text(found: list[ProviderProfile], settings: Settings, callbacks: int) -> str:
    """The profile as `contracts profile` prints it."""
    speed = settings.speed
    fake_queue, fake_run = settings.queue_seconds / speed, settings.run_seconds / speed
    lines = [
        f"fake settings: queue_seconds {settings.queue_seconds:g}, run_seconds {settings.run_seconds:g}, "
        f"speed {speed:g} (a lifecycle of {fake_queue:g} s + {fake_run:g} s in real seconds)"
    ]
    for profile in found:
        outcomes = ", ".join(f"{n} {word}" for word, n in sorted(profile.outcomes().items()))
        count = len(profile.trails)
        lines += ["", f"{profile.provider}: {count} task{'s' if count != 1 else ''} ({outcomes})"]
        queue, run = profile.queue, profile.run
        lines.append(f"  queue time  {queue.text()}; the fake: {fake_queue:g} s")
        lines.append(f"  run time    {run.text()}; the fake: {fake_run:g} s")
        lines += _progress(profile, run.median if run.median is not None else fake_run)
        failures = profile.failures()
        codes = ", ".join(f"{code} x{n}" for code, n in failures.most_common()) if failures else "none"
        lines.append(f"  failure codes seen: {codes}")
        lines.append(f"  settings that match: {suggestion(profile, speed)}")
    lines += ["", f"callbacks recorded: {callbacks}"]
    if len(found) > 1:
        lines.append("(queue_seconds and run_seconds are shared by the providers: choose per test run)")
    return "\n".join(lines)


def _progress(profile: ProviderProfile, run: float) -> list[str]:
    """Progress over tenths of the run: the recorded median beside the fake's (linear)."""
    tenths = profile.progress(run)
    if not any(count for _, _, count in tenths):
        return ["  progress over the run: not seen (the provider reports none, or no running task was seen)"]
    lines = [f"  progress over the run (of {run:.1f} s): recorded median / the fake's"]
    for tenth, median, count in tenths:
        recorded = f"{median:5.1f} (n={count})" if median is not None else "    - (n=0)"
        fake = int((tenth + 0.5) / BUCKETS * 100)
        lines.append(f"    {tenth * 10:3d}-{tenth * 10 + 10:3d}%  {recorded:14}  {fake:3d}")
    return lines


def suggestion(profile: ProviderProfile, speed: float) -> str:
    """The `MOCKSERVER_*` settings under which the fake's default lifecycle matches the recorded
    one, at this speed."""
    found = []
    for name, median in (("QUEUE_SECONDS", profile.queue.median), ("RUN_SECONDS", profile.run.median)):
        if median is not None:
            found.append(f"MOCKSERVER_{name}={round(median * speed, 1):g}")
    return " ".join(found) + f" (at speed {speed:g})" if found else "none (no queue or run time was seen)"
