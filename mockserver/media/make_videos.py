"""Regenerate the bundled result videos (a maintainer tool; needs PyAV, not run at serve time).

Usage: python -m mockserver.media.make_videos
Each file is a real H.264 MP4: a dark frame with a bar that sweeps across once per video,
so a player visibly plays it. Small frame sizes and 4 fps keep each file a few kilobytes.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mockserver.media.catalog import ASPECT_RATIOS, DURATIONS, FRAME_SIZES, video_path

FPS = 4


def _frame(width: int, height: int, index: int, count: int) -> np.ndarray:
    image = np.full((height, width, 3), 24, dtype=np.uint8)
    x = int((width - 8) * index / max(count - 1, 1))
    image[:, x : x + 8] = (230, 120, 40)
    return image


def make(duration: int, aspect_ratio: str, path: Path) -> None:
    width, height = FRAME_SIZES[aspect_ratio]
    count = duration * FPS
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        stream.options = {"crf": "35", "preset": "veryslow"}
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(_frame(width, height, index, count), format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def main() -> None:
    for duration in DURATIONS:
        for aspect_ratio in ASPECT_RATIOS:
            path = video_path(duration, aspect_ratio)
            make(duration, aspect_ratio, path)
            print(path.name, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()
