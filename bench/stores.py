"""The optional shared-store scenarios (`--store`): whether this mockserver has the `--store` and
`--workers` flags yet, whether a Redis is at hand, and a private throwaway redis-server on
127.0.0.1 for each fake that needs one (`--store redis`)."""

from __future__ import annotations

import contextlib
import functools
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import urlsplit

from bench.scenarios import Variant
from bench.servers import ROOT, free_port, pinned, server_env, spawned, wait_ready

PRIVATE = "redis"  # `--store redis`: a private redis-server for every fake started


def usable(
    always: Sequence[Variant], optional: Sequence[Variant], spec: str | None
) -> tuple[list[Variant], list[str]]:
    """`always`, and those `optional` store variants that can run with `spec` on this machine;
    then why the others cannot."""
    variants, skipped = list(always), []
    if spec is None:
        return variants, skipped
    reason = unavailable(spec)
    for variant in optional:
        missing = missing_flags(*variant.requires)
        why = reason or (f"this mockserver has no {' or '.join(missing)} flag yet" if missing else None)
        if why:
            skipped.append(f"{variant.label}: skipped, {why}")
        else:
            variants.append(variant)
    return variants, skipped


def missing_flags(*flags: str) -> list[str]:
    """The `mockserver` flags among `flags` that this version does not have."""
    return [flag for flag in flags if flag not in _usage()]


@functools.cache
def _usage() -> str:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=ROOT,
        env=server_env(),
    ).stdout


def unavailable(spec: str) -> str | None:
    """Why the store scenarios cannot run on this machine, or None when they can."""
    if missing_flags("--store"):
        return "this mockserver has no --store flag yet (the Redis store is not merged)"
    if spec == PRIVATE:
        if shutil.which("redis-server") is None:
            return "no redis-server on PATH (install Redis, or pass --store redis://HOST:PORT/DB)"
        return None
    where = urlsplit(spec)
    if where.scheme == "redis":
        try:
            socket.create_connection((where.hostname or "127.0.0.1", where.port or 6379), timeout=5).close()
        except OSError as error:
            return f"nothing answers at {where.hostname}:{where.port or 6379} ({error})"
    return None


@contextlib.contextmanager
def store_url(spec: str, cpu_list: str | None) -> Iterator[tuple[str, int | None]]:
    """The store URL to give one fake, and the process group of the private redis-server
    started for it (None when the URL was given: that store is shared and never cleaned)."""
    if spec != PRIVATE:
        yield spec, None
        return
    port = free_port()
    # In memory only: nothing is written to disk, and the server is gone with its data on exit.
    command = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    with spawned(pinned(cpu_list, command)) as proc:
        wait_ready(proc, redis_probe(port), 30)
        yield f"redis://127.0.0.1:{port}/0", proc.pid


def redis_probe(port: int) -> Callable[[], bool]:
    def answers() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    return answers
