"""Benchmarks, not tests. The timed half: wrk throughput and latency of the fake against a bare
Starlette endpoint (and Stoplight Prism) in the same rounds, start-up, memory and in-process
lifecycles; with --callgrind also the deterministic half, instructions per request
(bench/callgrind.py). One report; see bench/README.md.

    python bench/run.py                        # the timed figures, 3 rounds (about 7 minutes)
    python bench/run.py --callgrind            # and the instruction counts (about 5 minutes more)
    python bench/run.py --rounds 1 --duration 5 --skip-prism   # a quick look
    python bench/run.py --store redis          # also the fake on a private redis-server, 1 and 2 workers

Everything binds to 127.0.0.1, every run is bounded in time, and every process started here is
stopped on the way out (even on errors or Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import callgrind, stores, targets, wrk
from bench.bodies import EVOLINK_BODY
from bench.http1 import Connection, encode
from bench.scenarios import (
    AIMLAPI_CREATE,
    AIMLAPI_POLL,
    BARE,
    BARE_FLAGS,
    BARE_TASK,
    DEFAULT,
    EVOLINK_CREATE,
    EVOLINK_POLL,
    QUIET,
    STORE_1,
    STORE_2,
    Scenario,
    Variant,
    command,
    fixed,
)
from bench.servers import (
    READY_PATH,
    ROOT,
    ServerFailed,
    about_run,
    compile_bytecode,
    cpus,
    free_port,
    http_probe,
    pinned,
    rss_mb,
    spawned,
    wait_ready,
)

TOOLS = ROOT / "bench" / ".tools"
PRISM = TOOLS / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
PRISM_GET = Scenario("prism GET", "prism", "GET", None, fixed(BARE_TASK))
PRISM_POST = Scenario("prism POST", "prism", "POST", EVOLINK_BODY, fixed("/v1/videos/generations"))
PRISM_FLAGS = Variant("-v error")
# Polls before creates: the creates fill the server's store.
FAKE_SCENARIOS = (EVOLINK_POLL, AIMLAPI_POLL, EVOLINK_CREATE, AIMLAPI_CREATE)
STARTS = 5  # start-up is the median of this many starts


@dataclass
class Result:
    round: int
    target: str
    variant: str
    scenario: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int


@dataclass(frozen=True)
class Cpus:
    server: str | None  # the server under test and its private redis-server: all CPUs but the last
    load: str | None  # wrk and this process: the last CPU


def ensure_tools(skip_prism: bool) -> None:
    if shutil.which("wrk") is None:
        print("installing wrk from Debian's packages ...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True, timeout=600
        )
    if not skip_prism and not PRISM.exists():
        print(f"installing {PRISM_PACKAGE} from npm into {TOOLS} ...", flush=True)
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(TOOLS), "--silent", "--no-audit", "--no-fund", PRISM_PACKAGE],
            check=True,
            timeout=600,
        )


@contextlib.contextmanager
def serving(
    target: str, variant: Variant, store: str | None, where: Cpus
) -> Iterator[tuple[subprocess.Popen[bytes], int, int | None]]:
    """A server ready on a free port: its process, its port, and the process group of the private
    redis-server started for it (None if none)."""
    own_store = (
        stores.store_url(store, where.server) if variant.store and store else nullcontext((None, None))
    )
    with own_store as (url, redis_group):
        port = free_port()
        if target == "prism":
            line = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), "-v", "error"]
            server, ready, timeout = [*line, str(ROOT / "openapi" / "evolink.yaml")], BARE_TASK, 90.0
        else:
            server, ready, timeout = command(target, variant, port, url), READY_PATH[target], 60.0
        with spawned(pinned(where.server, server)) as proc:
            wait_ready(proc, http_probe(port, ready, 10), timeout)
            yield proc, port, redis_group


def throughput(
    args: argparse.Namespace, variants: list[Variant], where: Cpus
) -> tuple[list[Result], list[str]]:
    """Every scenario under wrk, round after round; a store variant that cannot start is skipped."""
    plan: list[tuple[str, Variant, tuple[Scenario, ...]]] = [("bare", BARE_FLAGS, BARE)]
    plan += [("fake", variant, FAKE_SCENARIOS) for variant in variants]
    if not args.skip_prism:
        plan.append(("prism", PRISM_FLAGS, (PRISM_GET, PRISM_POST)))
    results: list[Result] = []
    skipped: list[str] = []
    for number in range(1, args.rounds + 1):
        for target, variant, scenarios in plan:
            if any(variant.label in message for message in skipped):
                continue
            try:
                with serving(target, variant, args.store, where) as (_, port, _):
                    for scenario in scenarios:
                        with Connection(port, 30) as conn:
                            path = scenario.setup(conn)
                        time.sleep(scenario.settle)
                        load = wrk.run(
                            f"http://127.0.0.1:{port}{path}",
                            scenario.method,
                            scenario.body,
                            args.duration,
                            args.connections,
                            where.load,
                        )
                        results.append(Result(number, target, variant.label, scenario.name, **asdict(load)))
                        print(
                            f"  round {number}: {target}, {variant.label}, {scenario.name}: "
                            f"{load.requests_per_second:.0f} req/s, p99 {load.p99_ms:.2f} ms",
                            flush=True,
                        )
            except ServerFailed as error:
                if not variant.store:
                    raise
                skipped.append(f"{variant.label}: skipped, the fake did not start with --store: {error}")
    return results, skipped


def medians(results: list[Result]) -> list[dict[str, Any]]:
    """Each (target, flags, scenario) over the rounds: median req/s and latencies."""
    groups: dict[tuple[str, str, str], list[Result]] = {}
    for result in results:
        groups.setdefault((result.target, result.variant, result.scenario), []).append(result)
    return [
        {
            "target": target,
            "variant": variant,
            "scenario": scenario,
            "rounds": len(group),
            "requests_per_second": statistics.median(r.requests_per_second for r in group),
            "p50_ms": statistics.median(r.p50_ms for r in group),
            "p99_ms": statistics.median(r.p99_ms for r in group),
            "non_2xx": sum(r.non_2xx for r in group),
        }
        for (target, variant, scenario), group in groups.items()
    ]


def comparisons(results: list[Result]) -> list[dict[str, Any]]:
    """Ratios of req/s and of p99 within each round (never across rounds), over the rounds."""
    pairs = [
        ((s.name, v.label), (s.reference.name, BARE_FLAGS.label))
        for v in (DEFAULT, QUIET, STORE_1, STORE_2)
        for s in FAKE_SCENARIOS
        if s.reference
    ]
    pairs += [
        ((EVOLINK_POLL.name, DEFAULT.label), (PRISM_GET.name, PRISM_FLAGS.label)),
        ((EVOLINK_CREATE.name, DEFAULT.label), (PRISM_POST.name, PRISM_FLAGS.label)),
    ]
    pairs += [((s.name, STORE_1.label), (s.name, DEFAULT.label)) for s in FAKE_SCENARIOS]
    pairs += [((s.name, STORE_2.label), (s.name, STORE_1.label)) for s in FAKE_SCENARIOS]
    by = {(r.round, r.scenario, r.variant): r for r in results}
    rows = []
    for subject, reference in pairs:
        rps, p99 = [], []
        for number in sorted({r.round for r in results}):
            a, b = by.get((number, *subject)), by.get((number, *reference))
            if a is not None and b is not None:
                rps.append(a.requests_per_second / b.requests_per_second)
                p99.append(a.p99_ms / b.p99_ms)
        if rps:
            rows.append(
                {
                    "scenario": subject[0],
                    "variant": subject[1],
                    "against_scenario": reference[0],
                    "against_variant": reference[1],
                    "rounds": len(rps),
                    "rps": spread(rps),
                    "p99": spread(p99),
                }
            )
    return rows


def spread(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def startup(variant: Variant, store: str | None, where: Cpus) -> dict[str, Any]:
    """Median time from spawning the fake to its first successful answer (a store already runs)."""
    times = []
    for _ in range(STARTS):
        own_store = (
            stores.store_url(store, where.server) if variant.store and store else nullcontext((None, None))
        )
        with own_store as (url, _):
            port = free_port()
            start = time.perf_counter()
            with spawned(pinned(where.server, command("fake", variant, port, url))) as proc:
                wait_ready(proc, http_probe(port, READY_PATH["fake"], 10), 60)
                times.append(time.perf_counter() - start)
    return {"variant": variant.label, "seconds": round(statistics.median(times), 3), "runs": times}


def memory(variant: Variant, store: str | None, tasks: int, where: Cpus) -> dict[str, Any]:
    """Resident memory idle and after `tasks` creates over HTTP (pipelined on one connection);
    with a private redis-server, its memory too (that is where the tasks are)."""
    with serving("fake", variant, store, where) as (proc, port, redis_group):
        time.sleep(1)  # let start-up's garbage settle
        row: dict[str, Any] = {
            "variant": variant.label,
            "tasks": tasks,
            "idle_mb": round(rss_mb(proc.pid), 1),
        }
        if redis_group is not None:
            row["redis_idle_mb"] = round(rss_mb(redis_group), 1)
        with Connection(port, 120) as conn:
            statuses = conn.pipelined(
                encode("POST", conn.host, "/v1/videos/generations", EVOLINK_BODY), tasks
            )
        refused = [status for status in statuses if not 200 <= status < 300]
        if refused:
            raise RuntimeError(f"{len(refused)} of {tasks} creates failed (first: {refused[0]})")
        row["loaded_mb"] = round(rss_mb(proc.pid), 1)
        if redis_group is not None:
            row["redis_loaded_mb"] = round(rss_mb(redis_group), 1)
        return row


def lifecycles() -> dict[str, float]:
    """In-process lifecycle throughput under the manual clock (bench/lifecycle.py)."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "lifecycle.py")],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
        cwd=ROOT,
    ).stdout
    result: dict[str, float] = json.loads(out)
    return result


def markdown(report: dict[str, Any]) -> str:
    settings = report["settings"]
    lines = [
        f"wrk, {settings['duration_s']} s per run, {settings['connections']} connections, "
        f"medians over {settings['rounds']} round(s):",
        "",
        "| target | flags | scenario | req/s | p50 ms | p99 ms | non-2xx |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {m['target']} | {m['variant']} | {m['scenario']} | {m['requests_per_second']:.0f} | "
        f"{m['p50_ms']:.2f} | {m['p99_ms']:.2f} | {m['non_2xx']} |"
        for m in report["medians"]
    ]
    lines += [
        "",
        "| scenario | flags | against | req/s ratio, median (min-max) | p99 ratio, median (min-max) |",
        "|---|---|---|---:|---:|",
    ]
    for row in report["comparisons"]:
        against = (
            row["against_scenario"] if row["against_scenario"] != row["scenario"] else row["against_variant"]
        )
        rps, p99 = ratio(row["rps"]), ratio(row["p99"])
        lines.append(f"| {row['scenario']} | {row['variant']} | {against} | {rps} | {p99} |")
    lines += [
        "",
        "| fake flags | start-up to first answer (s) | idle RSS (MB) | RSS after tasks (MB) "
        "| Redis RSS idle / after (MB) |",
        "|---|---:|---:|---:|---:|",
    ]
    starts = {row["variant"]: row["seconds"] for row in report["startup"]}
    for row in report["memory"]:
        redis = f"{row['redis_idle_mb']} / {row['redis_loaded_mb']}" if "redis_idle_mb" in row else ""
        lines.append(
            f"| {row['variant']} | {starts.get(row['variant'], '')} | {row['idle_mb']} | "
            f"{row['loaded_mb']} ({row['tasks']:,} tasks) | {redis} |"
        )
    lines += ["", "| in-process lifecycles (bench/lifecycle.py) | |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in report["lifecycle"].items()]
    if report.get("callgrind"):
        lines += ["", callgrind.markdown(report["callgrind"])]
    lines += ["", targets.markdown(report["targets"])]
    lines += [f"- {message}" for message in report["skipped"]]
    return "\n".join(lines)


def ratio(spread: dict[str, float]) -> str:
    median, low, high = (
        f"{spread[key]:.{2 if spread[key] >= 0.1 else 3}f}" for key in ("median", "min", "max")
    )
    return f"{median}x ({low}-{high})"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every wrk run (default 3)")
    parser.add_argument(
        "--tasks", type=int, default=100_000, help="tasks for the memory run (default 100000)"
    )
    parser.add_argument("--skip-prism", action="store_true", help="without Node and Prism")
    parser.add_argument(
        "--no-pin", action="store_true", help="pin nothing (e.g. to let two workers use every CPU)"
    )
    parser.add_argument("--callgrind", action="store_true", help="also the deterministic mode")
    callgrind.add_arguments(parser)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args()
    available = cpus()
    pin = not args.no_pin and len(available) >= 2 and shutil.which("taskset") is not None
    where = Cpus(",".join(available[:-1]), available[-1]) if pin else Cpus(None, None)
    try:
        report = measure(args, where)
    except KeyboardInterrupt:
        sys.exit("interrupted; every server started was stopped")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print()
    print(markdown(report))
    print(f"\n(written to {args.out})")


@contextlib.contextmanager
def on_cpu(cpu: str | None) -> Iterator[None]:
    """This process (the client side: set-up requests, the memory fill) on `cpu` for a while."""
    before = os.sched_getaffinity(0)
    if cpu is not None:
        os.sched_setaffinity(0, {int(cpu)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def measure(args: argparse.Namespace, where: Cpus) -> dict[str, Any]:
    ensure_tools(args.skip_prism)
    compile_bytecode()
    variants, skipped = stores.usable([DEFAULT, QUIET], [STORE_1, STORE_2], args.store)
    for message in skipped:
        print(f"  {message}", flush=True)
    with on_cpu(where.load):
        results, failed = throughput(args, variants, where)
        skipped += failed
        # Start-up and memory on the default logging, and on each store variant that started.
        started = [v for v in variants if v is not QUIET and not any(v.label in m for m in failed)]
        starts = [startup(v, args.store, where) for v in started]
        memories = [memory(v, args.store, args.tasks, where) for v in started]
        lifecycle = lifecycles()
    report: dict[str, Any] = {
        **about_run("run.py"),
        "settings": {
            "duration_s": args.duration,
            "connections": args.connections,
            "rounds": args.rounds,
            "wrk_threads": wrk.THREADS,
            "server_cpus": where.server,
            "load_cpu": where.load,
        },
        "results": [asdict(r) for r in results],
        "medians": medians(results),
        "comparisons": comparisons(results),
        "startup": starts,
        "memory": memories,
        "lifecycle": lifecycle,
        "skipped": skipped,
    }
    if args.callgrind:
        report["callgrind"] = callgrind.report(args.n1, args.n2, args.only, args.store, not args.no_repeat)
        report["skipped"] += report["callgrind"]["skipped"] + report["callgrind"]["problems"]
    report["targets"] = targets.check(report)
    return report


if __name__ == "__main__":
    main()
