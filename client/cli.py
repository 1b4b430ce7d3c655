"""`videogen`: generate a video from an image and a prompt, show progress, download it.

Client layer. On a terminal the progress is a live bar (status, bar, percent, ETA); otherwise
one line per change, so CI logs show it too. Errors go to stderr. Exit codes: 0 done, 1 the
task failed, 2 a usage error, 3 the API refused, 4 the deadline passed.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from client._exceptions import (
    APIConnectionError,
    APIStatusError,
    InvalidImageError,
    TaskFailedError,
    VideoGenError,
    WaitTimeoutError,
)
from client._plans import PollSettings
from client._providers import PROVIDERS
from client._sync import SyncClient
from client.types import VideoRequest, VideoTask

EXIT_FAILED, EXIT_USAGE, EXIT_API, EXIT_TIMEOUT = 1, 2, 3, 4
EXIT_CODES = f"""\b
Exit codes: 0 saved; {EXIT_FAILED} the task failed; {EXIT_USAGE} a usage error (options, image,
API key); {EXIT_API} the API refused or could not be reached; {EXIT_TIMEOUT} the task did not
finish within --timeout."""
DEFAULT_PROVIDER = "evolink"  # the one that reports progress and an ETA, so the bar moves
# Help text from the registry, so that a new provider shows up without editing the options.
KEY_VARIABLES = " / ".join(f"${api.env_key}" for api in PROVIDERS.values())
DATA_URI_PROVIDERS = ", ".join(name for name, api in PROVIDERS.items() if api.accepts_data_uri)


class Reporter:
    """Shows each poll: a live bar on a terminal, a line per change elsewhere."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.live = console.is_terminal
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[eta]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.bar = self.progress.add_task("submitting", total=100, eta="")
        self._last: tuple[str, int | None, int | None] | None = None

    def __enter__(self) -> Reporter:
        if self.live:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live:
            self.progress.stop()

    def __call__(self, task: VideoTask) -> None:
        progress = task.progress if task.progress is not None else (100 if task.finished else None)
        eta = f"ETA {task.eta_seconds}s" if task.eta_seconds is not None else ""
        if self.live:
            self.progress.update(self.bar, description=task.provider_status, completed=progress or 0, eta=eta)
            return
        current = (task.provider_status, progress, task.eta_seconds)
        if current != self._last:
            self._last = current
            shown = f"{progress}%" if progress is not None else "-"
            self.console.print(
                f"status={task.provider_status} progress={shown} {eta}".rstrip(), highlight=False
            )


def _client(provider: str, api_key: str | None, base_url: str | None, interval: float) -> SyncClient:
    poll = PollSettings(interval=interval, min_interval=min(1.0, interval))
    return SyncClient(PROVIDERS[provider], api_key=api_key, base_url=base_url, poll=poll)


def _default_output(task: VideoTask) -> Path:
    return Path(re.sub(r"[^A-Za-z0-9_.-]+", "_", task.id.split(":")[0]) + ".mp4")


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True}, epilog=EXIT_CODES
)
@click.version_option(package_name="videogen-mock", prog_name="videogen")
@click.option("--provider", type=click.Choice(list(PROVIDERS)), default=DEFAULT_PROVIDER)
@click.option("--prompt", required=True, help="What the video should show.")
@click.option(
    "--image", required=True, help=f"First frame: a URL, or a local file ({DATA_URI_PROVIDERS} only)."
)
@click.option(
    "--last-image", default=None, help=f"Last frame: a URL, or a local file ({DATA_URI_PROVIDERS} only)."
)
@click.option("--duration", type=click.Choice(["5", "10"]), default="5")
@click.option(
    "--aspect-ratio", type=click.Choice(["16:9", "9:16", "1:1"]), default=None, help="evolink only."
)
@click.option("--callback-url", default=None, help="evolink only.")
@click.option(
    "--base-url", default=None, help="e.g. http://127.0.0.1:8000 for the fake [default: the provider]."
)
@click.option("--api-key", default=None, help=f"[default: {KEY_VARIABLES}]")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to save the MP4 [default: <task id>.mp4].",
)
@click.option("--timeout", type=float, default=1000.0, help="Give up after this many seconds.")
@click.option("--interval", type=float, default=10.0, help="Seconds between polls (shorter near the ETA).")
def main(
    provider: str,
    prompt: str,
    image: str,
    last_image: str | None,
    duration: str,
    aspect_ratio: str | None,
    callback_url: str | None,
    base_url: str | None,
    api_key: str | None,
    output: Path | None,
    timeout: float,
    interval: float,
) -> None:
    """Generate a video from IMAGE and PROMPT with Kling O1, then download it."""
    console = Console(highlight=False, soft_wrap=True)  # log lines stay whole when piped
    errors = Console(highlight=False, soft_wrap=True, stderr=True)
    if not (api_key or os.environ.get(PROVIDERS[provider].env_key)):
        raise click.UsageError(f"no API key: pass --api-key or set ${PROVIDERS[provider].env_key}")
    started = time.monotonic()
    try:
        with _client(provider, api_key, base_url, interval) as videos:
            task = videos.create(
                VideoRequest(
                    prompt,
                    image,
                    last_image=last_image,
                    duration=int(duration),
                    aspect_ratio=aspect_ratio,
                    callback_url=callback_url,
                )
            )
            console.print(f"created {task.id}")
            with Reporter(console) as report:
                report(task)
                task = videos.wait(task, timeout=timeout, on_progress=report)
            target = output or _default_output(task)
            videos.download(task, target)
    except TaskFailedError as error:
        errors.print(f"[red]failed[/red]: {error.code}: {error.message}")
        sys.exit(EXIT_FAILED)
    except WaitTimeoutError as error:
        errors.print(f"[red]timed out[/red]: {error}")
        sys.exit(EXIT_TIMEOUT)
    except (APIStatusError, APIConnectionError) as error:
        errors.print(f"[red]API error[/red]: {error}")
        sys.exit(EXIT_API)
    except (InvalidImageError, ValueError, VideoGenError) as error:
        raise click.UsageError(str(error)) from None
    console.print(f"saved {target} ({target.stat().st_size} bytes) in {time.monotonic() - started:.1f}s")
