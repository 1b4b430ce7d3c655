"""The common typed result both providers parse into, and the neutral status words.

Client layer: no I/O here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


class Status(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (Status.SUCCEEDED, Status.FAILED)


@dataclass(frozen=True)
class VideoTask:
    """A video task as either provider reports it, in common words."""

    id: str
    provider: str
    status: Status
    provider_status: str  # the provider's own word: "generating", "processing", ...
    progress: int | None = None  # 0-100 where the provider reports it (evolink)
    eta_seconds: int | None = None  # the provider's estimate of the time left
    video_url: str | None = None
    error_code: str | None = None  # evolink error.code / aimlapi error.name
    error_message: str | None = None
    created_at: int | None = None
    duration: int | None = None
    credits: float | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def finished(self) -> bool:
        return self.status.finished
