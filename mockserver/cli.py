"""`mockserver` / `python -m mockserver`: run the fake on a port with uvicorn, in one process
or in several workers sharing a Redis store.

App layer. Every flag is also an environment variable (`MOCKSERVER_<FLAG>`), which the
flag overrides; workers receive their settings as those variables.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import logging
import os
import secrets
import shutil
import socket
import tempfile
import textwrap
from collections.abc import Iterator, Mapping
from typing import Any

import click
from uvicorn.supervisors import Multiprocess

from mockserver import logs, server
from mockserver.app import create_app
from mockserver.control.access import control_token as control_token_of
from mockserver.metrics import MULTIPROCESS
from mockserver.providers import PROVIDERS
from mockserver.settings import DOC, ENV_PREFIX, SHOWN, Settings, parse_credits
from mockserver.upstream import recordings
from mockserver.upstream.har import HarError
from mockserver.web.asgi import MockApp
from mockserver.web.hosts import is_loopback

GC_THRESHOLDS = (20_000, 20, 20)
WORKER_APP = "mockserver.cli:worker_app"
NEEDS_SHARED_STORE = (
    "--workers {} needs a shared store: run redis-server and add --store redis://127.0.0.1:6379/0"
)
ONE_RECORDER = "--record writes one file from one process: use --workers 1 (or one recording per fake)"
# Where the workers' metrics files go when there is no temporary directory to write (a container
# with a read-only root): shared memory, which Docker and Kubernetes mount writable.
SHARED_MEMORY = "/dev/shm"
NO_METRICS_DIRECTORY = (
    "--workers count metrics in files, and no directory can be written ({}): set TMPDIR or "
    "PROMETHEUS_MULTIPROC_DIR to a writable one (a read-only container: --tmpfs /tmp)"
)
# Settings the flags below set (log_requests through --log-level); the others are read from
# the environment only, and the help lists them.
FLAG_FIELDS = frozenset(
    {
        "host",
        "port",
        "speed",
        "clock",
        "seed",
        "keys",
        "accept_any_key",
        "credits",
        "aimlapi_usd_per_second",
        "rate_limit",
        "evolink_errors",
        "allow_callback_hosts",
        "allow_hosts",
        "control_token",
        "store",
        "workers",
        "log_requests",
        "log_format",
        "replay",
        "replay_strict",
        "upstreams",
        "max_creates",
        "record",
        "record_secrets",
        "public_url",
    }
)
SETTINGS = {f.name: f for f in dataclasses.fields(Settings)}
flag = functools.partial(click.option, show_envvar=True)


def _env(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _about(name: str) -> str:
    """A flag's help: its setting's own description (docs/configuration.md shows it as Markdown)."""
    text: str = SETTINGS[name].metadata[DOC]
    return text.replace("`", "")


def _shown(name: str) -> str:
    """A flag's default in its help where it is not a plain value, as its setting shows it."""
    text: str = SETTINGS[name].metadata[SHOWN]
    return text


def _environment_help() -> str:
    """The help's epilog: the variables that have no flag, with their defaults."""
    settings = [
        f"{ENV_PREFIX}{f.name.upper()}={_default(f.default)}"
        for f in dataclasses.fields(Settings)
        if f.name not in FLAG_FIELDS
    ]
    listed = textwrap.fill(", ".join(settings), width=78, initial_indent="  ", subsequent_indent="  ")
    return (
        "\b\nEvery flag is also read from the variable shown beside it (the flag wins). These "
        "settings\nhave no flag, only a variable (default shown; docs/configuration.md says "
        f"what each does):\n{listed}\n\n\b\nThe control plane is at /__mock/ (an "
        "index at / and /__mock/, readiness at GET /__mock/health)."
    )


def _default(value: object) -> str:
    if isinstance(value, tuple):
        return ",".join(f"{v:.15g}" if isinstance(v, float) else str(v) for v in value) or '""'
    if isinstance(value, float):
        return f"{value:.15g}"
    return "none" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def banner(settings: Settings, seed: int) -> str:
    base = base_url(settings)
    key = settings.keys[0] if settings.keys else "any-non-empty-key"
    keys = ", ".join(settings.keys) if settings.keys else "none listed"
    clock = (
        "manual (advance with POST /__mock/clock/advance)"
        if settings.clock == "manual"
        else f"real x{settings.speed:g}"
    )
    lines = [
        "mockserver: offline fake of the AI/ML API and EvoLink Kling-O1 video APIs",
        *_apis(settings, base),
    ]
    lines += [
        f"  control plane      {base}/__mock/      (index, health, reset, clock, tasks, faults, requests, "
        "callbacks)",
        f"  API keys           {keys}"
        + ("  (any non-empty key is accepted)" if settings.accept_any_key else ""),
        f"  clock {clock}; seed {seed}; credits per key {_balances(settings)}; rate limit "
        f"{settings.rate_limit or 'none'}{'/min' if settings.rate_limit else ''}",
    ]
    if settings.control_token:
        lines.append(
            f"  control token      {settings.control_token}  (send it as X-Mock-Token to {base}/__mock/)"
        )
    if not is_loopback(settings.host):
        lines.append(
            f"  WARNING: bound to {settings.host}, beyond loopback: anyone who reaches this port can use "
            "the APIs with the keys above; the control plane takes the token. Set MOCKSERVER_PUBLIC_URL "
            "(or --allow-host NAME) so result links name a host clients reach."
        )
    if settings.shared:
        lines.append(f"  store {_without_password(settings.store)}; {settings.workers} worker(s)")
    if settings.replay:
        lines.append(
            "  replaying          "
            + ", ".join(settings.replay)
            + ("  (strict: a create no recording holds is refused)" if settings.replay_strict else "")
        )
    lines += _upstream_lines(settings)
    if settings.allow_callback_hosts:
        lines.append(
            "  CALLBACKS to local receivers are ON for: "
            + ", ".join(settings.allow_callback_hosts)
            + " (plain http allowed; the real service forbids this)"
        )
    lines += [
        "",
        "Try it:",
        f"  curl -s {base}/v1/videos/generations -H 'Authorization: Bearer {key}' \\",
        "    -H 'Content-Type: application/json' \\",
        '    -d \'{"model": "kling-o1-image-to-video", "prompt": "A cat walking", '
        '"image_urls": ["https://example.com/cat.jpg"]}\'',
        "",
    ]
    return "\n".join(lines)


def _apis(settings: Settings, base: str) -> list[str]:
    """Each provider's base URLs and operations, and the settings only it reads (the registry's)."""
    lines = []
    for provider in PROVIDERS.values():
        operations = ", ".join(f"{op.method.upper()} {op.path}" for op in provider.spec().operations.values())
        for mount in provider.mounts:
            where = f"{base}{mount}"
            label = "base URL" if not mount else "also at "
            lines.append(f"  {provider.slug:<8} {label}  {where:<32} ({operations})")
        if provider.settings:
            shown = ", ".join(f"{name}={_default(getattr(settings, name))}" for name in provider.settings)
            lines.append(f"  {provider.slug:<8} settings  {shown}")
    return lines


def _upstream_lines(settings: Settings) -> list[str]:
    """What the banner says of proxied providers: each upstream, the budget, the recording and
    whether callbacks are observed."""
    urls = settings.upstream_urls()
    if not urls:
        return []
    lines = [
        f"  {slug:8} UPSTREAM  {url}  (forwarded with the caller's own key; checked against the spec)"
        for slug, url in urls.items()
    ]
    lines.append(
        f"  upstream budget    at most {settings.max_creates} create(s) forwarded this run (--max-creates), "
        "then the provider's 429 locally"
    )
    if settings.record:
        kept = (
            "signed links kept"
            if settings.record_secrets
            else "keys fingerprinted, URL query strings removed"
        )
        lines.append(f"  recording to       {settings.record} (HAR 1.2; {kept})")
    relay = (
        f"relayed through {settings.public_url.rstrip('/')}/__mock/relay/..."
        if settings.public_url
        else ("NOT observed: no --public-url, so callback URLs pass through to the provider")
    )
    lines.append(f"  callbacks          {relay}; drift report at /__mock/drift")
    return lines


def base_url(settings: Settings) -> str:
    return f"http://{_url_host(settings.host)}:{settings.port}"


def ready_line(settings: Settings) -> str:
    """What the command prints once it serves (scripts may wait for it, or poll the health)."""
    return f"mockserver: ready on {base_url(settings)} (health: {base_url(settings)}/__mock/health)"


def _credits(raw: str | None) -> float | dict[str, float] | None:
    try:
        return None if raw is None else parse_credits(raw)
    except ValueError:
        raise click.BadParameter(f"{raw!r}: a number, or slug=number pairs", param_hint="--credits") from None


def _balances(settings: Settings) -> str:
    credits = settings.credits
    if credits is None:
        return "unlimited"
    if isinstance(credits, Mapping):
        return ", ".join(f"{slug} {amount:.15g}" for slug, amount in credits.items())
    return f"{credits:.15g} at each provider"


def _without_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    credentials, at, place = rest.rpartition("@")
    return f"{scheme}://***@{place}" if at and credentials else url


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part.strip() for value in values for part in value.split(",") if part.strip())


@click.command(
    context_settings={"help_option_names": ["-h", "--help"], "show_default": True},
    epilog=_environment_help(),
)
@click.version_option(package_name="videogen-mock", prog_name="mockserver")
@flag("--host", default="127.0.0.1", envvar=_env("host"), help=_about("host"))
@flag(
    "--port",
    default=8000,
    type=click.IntRange(0, 65535),
    envvar=_env("port"),
    help=_about("port"),
)
@flag(
    "--speed",
    default=1.0,
    type=click.FloatRange(min=0, min_open=True),
    envvar=_env("speed"),
    help=_about("speed"),
)
@flag(
    "--clock",
    "clock",
    default="real",
    type=click.Choice(["real", "manual"]),
    envvar=_env("clock"),
    help=_about("clock"),
)
@flag(
    "--seed",
    default=None,
    type=int,
    envvar=_env("seed"),
    help=_about("seed"),
    show_default=_shown("seed"),
)
@flag(
    "--keys",
    multiple=True,
    envvar=_env("keys"),
    help=_about("keys"),
    show_default=_shown("keys"),
)
@flag(
    "--accept-any-key",
    is_flag=True,
    envvar=_env("accept_any_key"),
    help=_about("accept_any_key"),
)
@flag(
    "--credits",
    default=None,
    envvar=_env("credits"),
    help=_about("credits"),
    show_default=_shown("credits"),
)
@flag(
    "--aimlapi-usd-per-second",
    default=0.112,
    type=click.FloatRange(min=0),
    envvar=_env("aimlapi_usd_per_second"),
    help=_about("aimlapi_usd_per_second"),
)
@flag(
    "--rate-limit",
    default=0,
    type=click.IntRange(min=0),
    envvar=_env("rate_limit"),
    help=_about("rate_limit"),
)
@flag(
    "--evolink-errors",
    default="seed",
    type=click.Choice(["seed", "current"]),
    envvar=_env("evolink_errors"),
    help=_about("evolink_errors"),
)
@flag(
    "--allow-callback-host",
    "allow_callback_hosts",
    multiple=True,
    envvar=_env("allow_callback_hosts"),
    help=_about("allow_callback_hosts"),
)
@flag(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    envvar=_env("allow_hosts"),
    help=_about("allow_hosts"),
)
@flag(
    "--control-token",
    default=None,
    envvar=_env("control_token"),
    help=_about("control_token"),
    show_default=_shown("control_token"),
)
@flag(
    "--store",
    default="memory",
    envvar=_env("store"),
    help=_about("store"),
)
@flag(
    "--workers",
    default=1,
    type=click.IntRange(min=1),
    envvar=_env("workers"),
    help=_about("workers"),
)
@flag(
    "--upstream",
    "upstreams",
    multiple=True,
    metavar="PROVIDER=URL",
    envvar=_env("upstreams"),
    help=_about("upstreams"),
)
@flag(
    "--max-creates",
    default=20,
    type=click.IntRange(min=0),
    envvar=_env("max_creates"),
    help=_about("max_creates"),
)
@flag(
    "--record",
    default=None,
    metavar="FILE.har",
    type=click.Path(dir_okay=False),
    envvar=_env("record"),
    help=_about("record"),
)
@flag("--record-secrets", is_flag=True, envvar=_env("record_secrets"), help=_about("record_secrets"))
@flag("--public-url", default=None, metavar="URL", envvar=_env("public_url"), help=_about("public_url"))
@flag(
    "--log-level",
    default="info",
    type=click.Choice(["debug", "info", "warning", "error"]),
    envvar=_env("log_level"),
    help="info logs one line per request on stderr (like every log line), written in batches (at most "
    "0.5 s late, or 512 lines at once) so the line costs the request little; warning leaves them out.",
)
@flag(
    "--log-format",
    default="text",
    type=click.Choice(logs.FORMATS),
    envvar=_env("log_format"),
    help=_about("log_format"),
)
@flag(
    "--replay",
    "replay",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False),
    envvar=_env("replay"),
    help=_about("replay"),
)
@flag("--replay-strict", is_flag=True, envvar=_env("replay_strict"), help=_about("replay_strict"))
def main(
    host: str,
    port: int,
    speed: float,
    clock: str,
    seed: int | None,
    keys: tuple[str, ...],
    accept_any_key: bool,
    credits: str | None,
    aimlapi_usd_per_second: float,
    rate_limit: int,
    evolink_errors: str,
    allow_callback_hosts: tuple[str, ...],
    allow_hosts: tuple[str, ...],
    control_token: str | None,
    store: str,
    workers: int,
    upstreams: tuple[str, ...],
    max_creates: int,
    record: str | None,
    record_secrets: bool,
    public_url: str | None,
    log_level: str,
    log_format: str,
    replay: tuple[str, ...],
    replay_strict: bool,
) -> None:
    """Run the fake of both video APIs on HOST:PORT."""
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "speed": speed,
        "clock": clock,
        "seed": seed,
        "accept_any_key": accept_any_key,
        "credits": _credits(credits),
        "aimlapi_usd_per_second": aimlapi_usd_per_second,
        "rate_limit": rate_limit,
        "evolink_errors": evolink_errors,
        "allow_callback_hosts": _split(allow_callback_hosts),
        "allow_hosts": _split(allow_hosts),
        "log_requests": log_level in ("debug", "info"),
        "log_format": log_format,
        "store": store,
        "workers": workers,
        "replay": _split(replay),
        "replay_strict": replay_strict,
        "upstreams": _split(upstreams),
        "max_creates": max_creates,
        "record": record,
        "record_secrets": record_secrets,
        "public_url": public_url,
    }
    if keys:
        options["keys"] = _split(keys)
    if control_token:
        options["control_token"] = control_token
    try:
        settings = Settings.from_env(**options)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if workers > 1 and not settings.shared:
        raise click.ClickException(NEEDS_SHARED_STORE.format(workers))
    for path in settings.replay:  # read once here: a bad file is one line, before anything starts
        try:
            found = recordings.read(path)
        except recordings.UnreadableRecording as error:
            raise click.ClickException(f"cannot replay {error}") from None
        if not found:
            raise click.ClickException(f"cannot replay {path}: it holds no exchange the proxy recorded")
    if workers > 1 and settings.record:
        raise click.ClickException(ONE_RECORDER)
    unknown = sorted(set(settings.upstream_urls()) - set(PROVIDERS))
    if unknown:
        raise click.ClickException(
            f"--upstream {', '.join(unknown)}: not a provider this fake serves ({', '.join(PROVIDERS)})"
        )
    # Decided once here, so the banner and the app (and every worker) agree on it.
    settings = dataclasses.replace(settings, control_token=control_token_of(settings))
    logs.configure(log_level.upper(), settings.log_format)
    server.raise_file_limit(settings.max_connections)
    try:
        sock = server.bind(settings.host, settings.port)
    except OSError as error:
        where = f"{_url_host(settings.host)}:{settings.port}"
        raise click.ClickException(f"cannot listen on {where}: {error.strerror or error}") from None
    settings = dataclasses.replace(settings, port=sock.getsockname()[1])  # --port 0: the one given
    with sock:
        _serve(settings, sock)


def _serve(settings: Settings, sock: socket.socket) -> None:
    """Print the banner, serve on the bound socket, and say when it is ready."""
    if settings.workers == 1:
        try:
            app = create_app(settings)
        except HarError as error:
            raise click.ClickException(f"--record: {error}") from None
        _tune_gc()
        click.echo(banner(settings, app.state.mock.engine.seed))
        ready = functools.partial(click.echo, ready_line(settings))
        server.Server(server.config(app, settings), on_ready=ready).run(sockets=[sock])
        return
    # Every worker builds its own app from these variables; one seed for all of them.
    seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
    settings = dataclasses.replace(settings, seed=seed)
    os.environ.update(settings.to_env())
    with _metrics_directory():
        click.echo(banner(settings, seed))
        config = server.config(WORKER_APP, settings, factory=True, workers=settings.workers)
        click.echo(ready_line(settings))  # the socket listens: connections wait for the first worker
        Multiprocess(config, sockets=[sock]).run()


@contextlib.contextmanager
def _metrics_directory() -> Iterator[None]:
    """Workers count into files in one directory (prometheus-client's multiprocess mode), so a
    scrape of any worker shows their sum: a fresh one for each run, unless
    PROMETHEUS_MULTIPROC_DIR names one (then emptying it between runs is the caller's)."""
    if os.environ.get(MULTIPROCESS):
        yield
        return
    directory = _metrics_directory_made()
    os.environ[MULTIPROCESS] = directory  # the workers, spawned after this, inherit it
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS]
        shutil.rmtree(directory, ignore_errors=True)


def _metrics_directory_made() -> str:
    """A fresh directory in the temporary one, or in shared memory where none can be written."""
    try:
        return tempfile.mkdtemp(prefix="mockserver-metrics-")
    except OSError as error:  # FileNotFoundError: no usable temporary directory
        if os.path.isdir(SHARED_MEMORY) and os.access(SHARED_MEMORY, os.W_OK):
            return tempfile.mkdtemp(prefix="mockserver-metrics-", dir=SHARED_MEMORY)
        raise click.ClickException(NO_METRICS_DIRECTORY.format(error)) from None


def _tune_gc() -> None:
    """Long-lived start-up objects (specs, validators, modules) leave the GC's scans, and young
    collections run every 20,000 allocations instead of 700: each request allocates many
    short-lived containers, and a fake holding 100,000 tasks pays for every full collection."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def worker_app() -> MockApp:
    """The app of one worker process (`--workers`), from the `MOCKSERVER_*` variables."""
    settings = Settings.from_env()
    logs.configure(logging.INFO if settings.log_requests else logging.WARNING, settings.log_format)
    app = create_app(settings)
    _tune_gc()
    return app
