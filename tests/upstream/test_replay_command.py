"""Replay from the outside: the `mockserver --replay` command (its banner, a bad file in one
line), the reference client following a replayed lifecycle, and `video_mock(replay=...)`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from client import EvolinkClient
from contracts.mock import video_mock
from tests.upstream import recorded

RECORDED_SHAPE = {"duration": 5, "aspect_ratio": "9:16", "callback_url": "https://hooks.example.com/x"}


def saved(tmp_path: Path) -> Path:
    path = tmp_path / "real-runs.har"
    path.write_text(json.dumps(recorded.har(*recorded.lifecycle())))
    return path


def test_the_reference_client_follows_a_replayed_lifecycle_to_its_end(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int | None]] = []
    with (
        video_mock(replay=str(saved(tmp_path))) as mock,
        EvolinkClient("k", sleep=mock.advance, monotonic=mock.now) as videos,
    ):
        task = videos.generate(
            "A cat, replayed",
            "https://example.com/cat.jpg",
            on_progress=lambda t: seen.append((t.provider_status, t.progress, t.eta_seconds)),
            **RECORDED_SHAPE,  # type: ignore[arg-type]
        )
    assert task.status.value == "succeeded" and task.video_url
    assert ("processing", 12, 60) in seen or ("processing", 55, 30) in seen
    assert seen[0] == ("pending", 0, 140)
    assert all(status in ("pending", "processing", "completed") for status, _, _ in seen)


def test_the_command_names_what_it_replays_and_refuses_a_bad_file_in_one_line(tmp_path: Path) -> None:
    good, bad, empty = saved(tmp_path), tmp_path / "broken.har", tmp_path / "empty.har"
    bad.write_text("not a recording")
    empty.write_text('{"log": {"entries": [')  # a recording killed before its first exchange
    for path, says in ((bad, "is not JSON"), (empty, "holds no exchange the proxy recorded")):
        refused = subprocess.run(
            [sys.executable, "-m", "mockserver", "--port", "0", "--replay", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert refused.returncode == 1 and "Traceback" not in refused.stderr
        last = refused.stderr.strip().splitlines()[-1]
        assert last.startswith("Error: cannot replay") and str(path) in last and says in last
    command = [sys.executable, "-m", "mockserver", "--port", "0", "--replay", str(good), "--replay-strict"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as started:
        try:
            assert started.stdout is not None
            banner = ""
            while "ready on" not in (line := started.stdout.readline()):
                assert line, "the fake ended before it was ready"
                banner += line
        finally:
            started.terminate()
            started.wait(10)
    assert f"replaying          {good}  (strict" in banner
