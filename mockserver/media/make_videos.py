"""Regenerate the bundled result videos (a maintainer tool; needs PyAV, not run at serve time).

Usage: python -m mockserver.media.make_videos
Each file is a real H.264 MP4 at the documented output size (1920x1080 and its portrait and
square siblings) with the requested duration: one still frame (a dark field with a bar), 4 fps,
and a single key frame, so every later frame is skipped and each file stays a few kilobytes.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from mockserver.media.catalog import ASPECT_RATIOS, DURATIONS, FRAME_SIZES, video_path

FPS = 4
BAR = 64  # pixels wide, centred


def _frame(width: int, height: int) -> np.ndarray:
    image = np.full((height, width, 3), 24, dtype=np.uint8)
    left = (width - BAR) // 2
    image[:, left : left + BAR] = (230, 120, 40)
    return image


def make(duration: int, aspect_ratio: str, path: Path) -> None:
    width, height = FRAME_SIZES[aspect_ratio]
    count = duration * FPS
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = Fraction(1, FPS)
        # One key frame for the whole file: the still frame repeats as skipped macroblocks.
        stream.options = {
            "crf": "40",
            "preset": "veryslow",
            "g": str(count),
            "x264-params": f"scenecut=0:keyint={count}:bframes=16",
        }
        still = _frame(width, height)
        for index in range(count):
            frame = av.VideoFrame.from_ndarray(still, format="rgb24")
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
