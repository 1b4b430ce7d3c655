"""The Redis store against the memory store on one worker, under wrk in the same rounds: requests
per second and p99 of polls and creates, each ratio taken within a round, and the CPU each
request cost the fake's process and the redis-server (from /proc, over the wrk run). See
bench/README.md ("Redis store").

    python bench/store_load.py                        # 3 rounds of 10 s runs: about 4 minutes
    python bench/store_load.py --rounds 1 --duration 5   # a quick look

Needs wrk (installed from Debian's packages if missing) and redis-server (Debian: apt-get install
redis-server), started here on a free 127.0.0.1 port for each fake and stopped with it. The fake
and its redis-server share every CPU but the last; wrk and this process run on the last.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import stores, wrk
from bench.http1 import Connection
from bench.run import Cpus, ensure_tools, on_cpu, ratio, serving, spread
from bench.scenarios import AIMLAPI_POLL, DEFAULT, EVOLINK_CREATE, EVOLINK_POLL, STORE_1, Variant
from bench.servers import ROOT, about_run, compile_bytecode, cpus, group, publish
from mockserver.store import resp

SCENARIOS = (EVOLINK_POLL, AIMLAPI_POLL, EVOLINK_CREATE)
VARIANTS = (DEFAULT, STORE_1)  # the memory store, then the Redis store
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Run:
    round: int
    variant: str
    scenario: str
    requests_per_second: float
    p99_ms: float
    requests: int
    non_2xx: int
    fake_cpu_us: float  # CPU seconds of the fake's process group over the run, per request
    redis_cpu_us: float | None  # the same for the redis-server, with the Redis store


def cpu_seconds(pgid: int) -> float:
    """User and system CPU time of a process group's live processes, from /proc."""
    total = 0
    for pid in group(pgid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


@contextlib.contextmanager
def cpu_spent(pgid: int | None) -> Iterator[list[float]]:
    """The CPU seconds `pgid` spends inside the block, in the list yielded (filled on exit)."""
    spent: list[float] = []
    before = cpu_seconds(pgid) if pgid is not None else 0.0
    yield spent
    spent.append(cpu_seconds(pgid) - before if pgid is not None else 0.0)


def one_round(number: int, args: argparse.Namespace, where: Cpus) -> list[Run]:
    runs = []
    for variant in VARIANTS if number % 2 else VARIANTS[::-1]:  # each first in every other round
        with serving("fake", variant, stores.PRIVATE, where) as (proc, port, redis_group):
            for scenario in SCENARIOS:
                with Connection(port, 30) as conn:
                    path = scenario.setup(conn)
                time.sleep(scenario.settle)
                with cpu_spent(proc.pid) as fake, cpu_spent(redis_group) as redis:
                    load = wrk.run(
                        f"http://127.0.0.1:{port}{path}",
                        scenario.method,
                        scenario.body,
                        args.duration,
                        args.connections,
                        where.load,
                    )
                per_request = 1e6 / max(load.requests, 1)
                runs.append(
                    Run(
                        number,
                        variant.label,
                        scenario.name,
                        load.requests_per_second,
                        load.p99_ms,
                        load.requests,
                        load.non_2xx,
                        round(fake[0] * per_request, 1),
                        round(redis[0] * per_request, 1) if redis_group is not None else None,
                    )
                )
                print(f"  round {number}: {variant.label}, {scenario.name}: {describe(runs[-1])}", flush=True)
    return runs


def describe(run: Run) -> str:
    redis = f", redis-server {run.redis_cpu_us} us" if run.redis_cpu_us is not None else ""
    return (
        f"{run.requests_per_second:.0f} req/s, p99 {run.p99_ms:.2f} ms; "
        f"CPU per request: fake {run.fake_cpu_us} us{redis}"
    )


def compare(runs: list[Run]) -> list[dict[str, Any]]:
    """Per scenario, within each round: the Redis store's req/s and p99 over the memory store's,
    and the memory store's CPU per request over the Redis store's (the fake's and redis-server's:
    on one shared CPU, the throughput that CPU alone allows)."""
    by = {(r.round, r.variant, r.scenario): r for r in runs}
    rows = []
    for scenario in SCENARIOS:
        rps, p99, cpu = [], [], []
        for number in sorted({r.round for r in runs}):
            redis = by.get((number, STORE_1.label, scenario.name))
            memory = by.get((number, DEFAULT.label, scenario.name))
            if redis is not None and memory is not None:
                rps.append(redis.requests_per_second / memory.requests_per_second)
                p99.append(redis.p99_ms / memory.p99_ms)
                cpu.append(memory.fake_cpu_us / (redis.fake_cpu_us + (redis.redis_cpu_us or 0.0)))
        if rps:
            rows.append(
                {
                    "scenario": scenario.name,
                    "rounds": len(rps),
                    "rps": spread(rps),
                    "p99": spread(p99),
                    "cpu": spread(cpu),
                }
            )
    return rows


def medians(runs: list[Run], variant: Variant) -> list[dict[str, Any]]:
    rows = []
    for scenario in SCENARIOS:
        mine = [r for r in runs if r.variant == variant.label and r.scenario == scenario.name]
        if mine:
            redis = [r.redis_cpu_us for r in mine if r.redis_cpu_us is not None]
            rows.append(
                {
                    "variant": variant.label,
                    "scenario": scenario.name,
                    "requests_per_second": statistics.median(r.requests_per_second for r in mine),
                    "p99_ms": statistics.median(r.p99_ms for r in mine),
                    "fake_cpu_us": statistics.median(r.fake_cpu_us for r in mine),
                    "redis_cpu_us": statistics.median(redis) if redis else None,
                    "non_2xx": sum(r.non_2xx for r in mine),
                }
            )
    return rows


def markdown(report: dict[str, Any]) -> str:
    settings = report["settings"]
    lines = [
        f"wrk, {settings['duration_s']} s per run, {settings['connections']} connections, one worker, "
        f"medians over {settings['rounds']} round(s); the Redis protocol by {settings['protocol']}:",
        "",
        "| store | scenario | req/s | p99 ms | CPU per request: fake / redis-server (us) | non-2xx |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in report["medians"]:
        redis = f" / {row['redis_cpu_us']:.1f}" if row["redis_cpu_us"] is not None else ""
        lines.append(
            f"| {row['variant']} | {row['scenario']} | {row['requests_per_second']:.0f} | "
            f"{row['p99_ms']:.2f} | {row['fake_cpu_us']:.1f}{redis} | {row['non_2xx']} |"
        )
    lines += [
        "",
        "| scenario | Redis store against the memory store: req/s, median (min-max) | p99 "
        "| requests per CPU second |",
        "|---|---:|---:|---:|",
    ]
    lines += [
        f"| {r['scenario']} | {ratio(r['rps'])} | {ratio(r['p99'])} | {ratio(r['cpu'])} |"
        for r in report["comparisons"]
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "store_load.json")
    args = parser.parse_args()
    reason = stores.unavailable(stores.PRIVATE)
    if reason:
        raise SystemExit(reason)
    ensure_tools(skip_prism=True)
    compile_bytecode()
    available = cpus()
    pin = len(available) >= 2 and shutil.which("taskset") is not None
    where = Cpus(",".join(available[:-1]), available[-1]) if pin else Cpus(None, None)
    try:
        with on_cpu(where.load):
            runs = [run for number in range(1, args.rounds + 1) for run in one_round(number, args, where)]
    except KeyboardInterrupt:
        raise SystemExit("interrupted; every server started was stopped") from None
    report = {
        **about_run("store_load.py"),
        "settings": {
            "duration_s": args.duration,
            "connections": args.connections,
            "rounds": args.rounds,
            "protocol": resp.PARSER,  # hiredis, or the store's own Python
        },
        "runs": [asdict(run) for run in runs],
        "medians": medians(runs, DEFAULT) + medians(runs, STORE_1),
        "comparisons": compare(runs),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    publish(report, args.out, markdown)


if __name__ == "__main__":
    main()
