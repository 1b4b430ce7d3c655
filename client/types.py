"""The common typed request and result both providers speak, and the neutral status words.

Client layer: no I/O here.
"""

from __future__ import annotations

import enum
import os
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, TypedDict

# A URL, a `data:` URI, a local file, or the image's bytes (client._images turns it into a URL).
Image = str | os.PathLike[str] | bytes


@dataclass(frozen=True)
class VideoRequest:
    """What to generate, in common words: every provider builds its create from this."""

    prompt: str
    image: Image  # the first frame
    # The options are keywords only, as in the verbs' call form: `create(prompt, image, duration=10)`.
    _: KW_ONLY
    last_image: Image | None = None
    duration: int = 5  # seconds
    aspect_ratio: str | None = None
    callback_url: str | None = None


class VideoOptions(TypedDict, total=False):
    """VideoRequest's keyword fields, so that mypy checks the verbs' `**options`. The type
    system cannot derive a TypedDict from a dataclass; a test keeps the two equal."""

    last_image: Image | None
    duration: int
    aspect_ratio: str | None
    callback_url: str | None


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
