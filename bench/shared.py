"""Benchmarks (not tests) of the shared store: requests per second with the memory store and
with Redis on one worker, with Redis on one and on two workers, and Redis round trips per
request. See bench/README.md ("The shared store").

    python bench/shared.py                # about 2 minutes; writes bench/results/shared.json
    python bench/shared.py --duration 5

Needs `redis-server` (Debian: apt-get install redis-server) and wrk (bench/run.py installs it).
Everything binds to 127.0.0.1 and every process started here is stopped on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from typing import Any

import httpx
from run import EVOLINK_BODY, KEY, LOAD_CPU, ROOT, SERVER_CPU, free_port, pinned, process, wrk

AUTH = {"Authorization": f"Bearer {KEY}"}
CREATE, POLL = "/v1/videos/generations", "/v1/tasks/{}"


@contextlib.contextmanager
def redis_server(cpu: str | None) -> Iterator[str]:
    """A redis-server of our own on a free loopback port, without persistence."""
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        raise SystemExit("redis-server is not installed: apt-get install redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory]
        command += ["--save", "", "--appendonly", "no"]
        with subprocess.Popen(pinned(cpu, command) if cpu else command, stdout=subprocess.DEVNULL) as server:
            try:
                deadline = time.monotonic() + 10
                while (
                    subprocess.run(
                        ["redis-cli", "-p", str(port), "ping"], capture_output=True, text=True, check=False
                    ).stdout.strip()
                    != "PONG"
                ):
                    if time.monotonic() > deadline:
                        raise RuntimeError("redis-server did not start")
                    time.sleep(0.05)
                yield f"redis://127.0.0.1:{port}/0"
            finally:
                server.terminate()
                server.wait(10)


def fake(port: int, store: str, workers: int, pin: bool) -> list[str]:
    command = [sys.executable, "-m", "mockserver", "--port", str(port), "--seed", "1"]
    command += ["--log-level", "warning", "--store", store, "--workers", str(workers)]
    return pinned(SERVER_CPU, command) if pin else command


def throughput(store: str, workers: int, pin: bool, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process(fake(port, store, workers, pin), f"{base}/__mock/clock"):
        task = httpx.post(f"{base}{CREATE}", headers=AUTH, json=EVOLINK_BODY).json()["id"]
        poll = wrk(f"{base}{POLL.format(task)}", "GET", None, args.duration, args.connections)
        create = wrk(f"{base}{CREATE}", "POST", EVOLINK_BODY, args.duration, args.connections)
    kind = "memory" if store == "memory" else "redis"
    return {
        "store": kind,
        "workers": workers,
        "pinned": pin,
        "poll": dict(zip(("rps", "p50_ms", "p99_ms", "non_2xx"), poll, strict=True)),
        "create": dict(zip(("rps", "p50_ms", "p99_ms", "non_2xx"), create, strict=True)),
    }


async def _round_trips(url: str, requests: int, concurrency: int) -> dict[str, float]:
    """Redis commands sent per poll and per create, in-process (each command or script call
    is one round trip: the store sends no pipelines)."""
    from redis.asyncio import Redis

    from mockserver import Settings, create_app

    sent = 0
    original = Redis.execute_command

    async def counted(self: Redis, *args: Any, **options: Any) -> Any:
        nonlocal sent
        sent += 1
        return await original(self, *args, **options)

    Redis.execute_command = counted  # type: ignore[method-assign]
    app = create_app(Settings(clock="manual", seed=1, store=url))
    transport = httpx.ASGITransport(app=app)
    found: dict[str, float] = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as http:
        task = (await http.post(CREATE, headers=AUTH, json=EVOLINK_BODY)).json()["id"]
        store = app.state.mock.engine.store
        for name, call in (
            ("create", lambda: http.post(CREATE, headers=AUTH, json=EVOLINK_BODY)),
            ("poll", lambda: http.get(POLL.format(task), headers=AUTH)),
        ):
            for label, width in (("one at a time", 1), (f"{concurrency} at a time", concurrency)):
                await store._drain()  # journal entries of earlier requests are not counted
                before = sent
                for _ in range(requests // width):
                    await asyncio.gather(*(call() for _ in range(width)))
                await store._drain()
                found[f"{name}, {label}"] = round((sent - before) / (requests // width * width), 3)
        await app.state.mock.runtime.stop()
    Redis.execute_command = original  # type: ignore[method-assign]
    return found


def markdown(report: dict[str, Any]) -> str:
    lines = ["| store | workers | pinned | GET poll req/s | p99 ms | POST create req/s | p99 ms |"]
    lines.append("|---|---:|---|---:|---:|---:|---:|")
    for run in report["throughput"]:
        poll, create = run["poll"], run["create"]
        lines.append(
            f"| {run['store']} | {run['workers']} | {'yes' if run['pinned'] else 'no'} | "
            f"{poll['rps']:.0f} | {poll['p99_ms']:.2f} | {create['rps']:.0f} | {create['p99_ms']:.2f} |"
        )
    lines += ["", "| Redis round trips per request | measured |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in report["round_trips"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=640, help="requests per round-trip count")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install wrk (or run bench/run.py once)")
    report: dict[str, Any] = {"throughput": []}
    # One worker: the server on one CPU; wrk and Redis share the other.
    with redis_server(LOAD_CPU) as url:
        report["throughput"].append(throughput("memory", 1, True, args))
        report["throughput"].append(throughput(url, 1, True, args))
    # One worker against two, nothing pinned: the two workers may use both CPUs.
    with redis_server(None) as url:
        report["throughput"].append(throughput(url, 1, False, args))
        report["throughput"].append(throughput(url, 2, False, args))
        report["round_trips"] = asyncio.run(_round_trips(url, args.requests, args.connections))
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "shared.json").write_text(json.dumps(report, indent=2))
    print(markdown(report))


if __name__ == "__main__":
    main()
