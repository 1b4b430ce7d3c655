"""Probe an MP4 the way a player would: decode every frame with PyAV (bundled FFmpeg)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction

import av


@dataclass(frozen=True)
class Probe:
    duration: float
    width: int
    height: int
    frames: int
    codec: str

    @property
    def aspect_ratio(self) -> str:
        ratio = Fraction(self.width, self.height)
        return f"{ratio.numerator}:{ratio.denominator}"


def probe(data: bytes) -> Probe:
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(video=0))
        assert container.duration is not None
        return Probe(
            container.duration / 1_000_000,
            stream.codec_context.width,
            stream.codec_context.height,
            frames,
            stream.codec_context.name,
        )
