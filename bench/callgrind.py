"""Deterministic mode: instructions per request of each server under callgrind, the same from run
to run however fast the machine happens to be. See bench/README.md.

    python bench/callgrind.py                  # every scenario (about 5 minutes on 2 cores)
    python bench/callgrind.py --only poll      # the scenarios whose label contains "poll"
    python bench/callgrind.py --store redis    # also the fake on a private redis-server, 1 and 2 workers
    python bench/callgrind.py --callbacks      # also instructions per delivered callback

Each scenario's server runs twice under valgrind, serving N1 and then N2 identical requests one
after another on one keep-alive connection; (I(N2) - I(N1)) / (N2 - N1) is the cost of one
request, start-up and shutdown cancelled. The shorter run then idles until it has lasted as long
as the longer one, so the work servers do on timers (uvicorn's tick, the fake's driver) cancels too.
"""

from __future__ import annotations

import argparse
import json
import platform
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench import stores
from bench.http1 import Connection, encode
from bench.scenarios import (
    AIMLAPI_POLL,
    BARE,
    BARE_FLAGS,
    BARE_GET,
    DEFAULT,
    EVOLINK_CREATE,
    EVOLINK_POLL,
    QUIET,
    STORE_1,
    STORE_2,
    Scenario,
    Variant,
    command,
)
from bench.servers import (
    READY_PATH,
    ROOT,
    ServerFailed,
    compile_bytecode,
    cpus,
    free_port,
    http_probe,
    pinned,
    server_env,
    spawned,
    stop,
    stop_all,
    wait_ready,
)

# The whole process and every thread and child (uvicorn workers are spawned processes), counted
# from the start; no per-instruction dump, only totals and per-function costs are needed.
VALGRIND = (
    "valgrind",
    "--tool=callgrind",
    "--collect-atstart=yes",
    "--dump-instr=no",
    "--trace-children=yes",
)
# N2 - N1 = 2,000: a run's total varies by ~0.01% (~100,000), ~50 instructions over 2,000 requests.
N1, N2 = 200, 2200
READY_TIMEOUT = 900.0  # seconds: a fake starts in ~30 s under valgrind here, workers take longer
ANSWER_TIMEOUT = 120.0
OUT_DIR = ROOT / "bench" / "results" / "callgrind"
FAKE_SCENARIOS = (EVOLINK_POLL, AIMLAPI_POLL, EVOLINK_CREATE)
WORKERS_UNDER_VALGRIND = (
    "uvicorn's supervisor restarts a worker that does not answer its health ping within 5 s; "
    "~50x slower under valgrind, workers miss it and are restarted over and over"
)
# Measured twice in every run, to show how far the figure repeats.
REPEATED = (BARE_GET.name, f"{EVOLINK_POLL.name}, {DEFAULT.label}")
AGAIN = " (again)"
_aborted = threading.Event()


@dataclass(frozen=True)
class Job:
    label: str
    scenario: Scenario
    variant: Variant


@dataclass
class Run:
    """One server under callgrind, serving `requests` requests."""

    requests: int
    instructions: int
    processes: int  # callgrind output files: the server and any workers
    seconds: float  # the measured phase, idle padding included
    statuses: tuple[Any, Any]  # the "status" field of the first and the last answer


def plan(store: str | None, only: str | None, repeat: bool) -> tuple[list[Job], list[str]]:
    """The jobs to run, and the variants skipped (with why)."""
    variants, skipped = stores.usable([DEFAULT, QUIET], [STORE_1], store)
    if store:
        skipped.append(f"{STORE_2.label}: measured by wrk only. {WORKERS_UNDER_VALGRIND}")
    jobs = [Job(scenario.name, scenario, BARE_FLAGS) for scenario in BARE]
    jobs += [Job(f"{s.name}, {v.label}", s, v) for v in variants for s in FAKE_SCENARIOS]
    if only:  # and the bare scenarios the chosen ones are compared with
        chosen = [job for job in jobs if only in job.label]
        references = {job.scenario.reference.name for job in chosen if job.scenario.reference}
        jobs = [job for job in jobs if job in chosen or job.scenario.name in references]
    if repeat:
        jobs += [
            Job(f"{job.label}{AGAIN}", job.scenario, job.variant) for job in jobs if job.label in REPEATED
        ]
    return jobs, skipped


def measure(job: Job, n1: int, n2: int, cpu: str | None, store: str | None) -> dict[str, Any]:
    """Both runs of one job on one CPU: N2 first, to learn how long the N1 run must last."""
    long = run_once(job, n2, cpu, store, pad_to=0.0)
    short = run_once(job, n1, cpu, store, pad_to=long.seconds)
    return {
        "label": job.label,
        "scenario": job.scenario.name,
        "variant": job.variant.label,
        "target": job.scenario.target,
        "reference": job.scenario.reference.name if job.scenario.reference else None,
        "per_request": round((long.instructions - short.instructions) / (n2 - n1)),
        "runs": [asdict(short), asdict(long)],
        "cpu": cpu,
    }


def run_once(job: Job, requests: int, cpu: str | None, store: str | None, pad_to: float) -> Run:
    prefix = OUT_DIR / f"{slug(job.label)}.n{requests}"
    for old in OUT_DIR.glob(f"{prefix.name}.*"):
        old.unlink()
    scenario = job.scenario
    own_store = stores.store_url(store, cpu) if job.variant.store and store else nullcontext((None, None))
    with own_store as (url, _):
        port = free_port()
        wrapped = [
            *VALGRIND,
            f"--callgrind-out-file={prefix}.%p.out",
            f"--log-file={prefix}.%p.valgrind",
            *command(scenario.target, job.variant, port, url),
        ]
        log = Path(f"{prefix}.log")
        # A fixed hash seed: str hashes, and so dict and set layouts, are the same on every run.
        with spawned(pinned(cpu, wrapped), log=log, env=server_env(PYTHONHASHSEED="0")) as proc:
            wait_ready(
                proc, http_probe(port, READY_PATH[scenario.target], ANSWER_TIMEOUT), READY_TIMEOUT, log
            )
            with Connection(port, ANSWER_TIMEOUT) as conn:
                path = scenario.setup(conn)
                pause(scenario.settle)
                raw = encode(scenario.method, conn.host, path, scenario.body)
                start = time.perf_counter()
                answers = [conn.send(raw) for _ in range(requests)]
            seconds = time.perf_counter() - start
            pause(pad_to - seconds)
            refused = [status for status, _ in answers if not 200 <= status < 300]
            if refused:
                raise RuntimeError(f"{len(refused)} answers were not 2xx (first: {refused[0]})")
            if not stop(proc):
                raise ServerFailed(f"did not stop by itself, so callgrind wrote no totals (see {log})")
    outputs = sorted(OUT_DIR.glob(f"{prefix.name}.*.out"))
    if not outputs:
        raise ServerFailed(f"callgrind wrote no output (see {log})")
    return Run(
        requests,
        sum(total(path) for path in outputs),
        len(outputs),
        max(seconds, pad_to),
        (status_of(answers[0][1]), status_of(answers[-1][1])),
    )


def pause(seconds: float) -> None:
    if seconds > 0 and _aborted.wait(seconds):
        raise KeyboardInterrupt


def total(path: Path) -> int:
    """The total instruction count callgrind wrote (the `totals:` line; `summary:` in old files)."""
    text = path.read_text(errors="replace")
    match = re.search(r"^totals:\s+(\d+)", text, re.M) or re.search(r"^summary:\s+(\d+)", text, re.M)
    if match is None:
        raise ServerFailed(f"no totals in {path}")
    return int(match.group(1))


def status_of(answer: bytes) -> Any:
    try:
        body = json.loads(answer)
    except ValueError:
        return None
    return body.get("status") if isinstance(body, dict) else None


def slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def run_all(jobs: list[Job], n1: int, n2: int, store: str | None) -> list[dict[str, Any]]:
    """Every job, as many at once as there are CPUs, each job's two runs pinned to one CPU."""
    free: queue.Queue[str | None] = queue.Queue()
    for cpu in cpus() if shutil.which("taskset") else [None]:
        free.put(cpu)

    def job_on_a_free_cpu(job: Job) -> dict[str, Any]:
        cpu = free.get()
        started = time.perf_counter()
        try:
            result = measure(job, n1, n2, cpu, store)
        except ServerFailed as error:
            # A store variant that cannot start here (e.g. the redis client is not installed)
            # is skipped; anything else that fails to start is a failure.
            what = "skipped" if job.variant.store else "failed"
            result = {"label": job.label, what: f"{job.label}: {error}"}
        except (OSError, RuntimeError) as error:
            result = {"label": job.label, "failed": f"{job.label}: {error}"}
        finally:
            free.put(cpu)
        result["wall_seconds"] = round(time.perf_counter() - started, 1)
        return result

    pool = ThreadPoolExecutor(max_workers=free.qsize())
    results = []
    try:
        futures: list[Future[dict[str, Any]]] = [pool.submit(job_on_a_free_cpu, job) for job in jobs]
        for future in as_completed(futures):
            result = future.result()
            results.append(result)
            print(progress(result), flush=True)
    except BaseException:
        _aborted.set()
        stop_all()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    order = [job.label for job in jobs]
    return sorted(results, key=lambda result: order.index(result["label"]))


def progress(result: dict[str, Any]) -> str:
    if "per_request" in result:
        count = f"{result['per_request']:,} instructions per request"
        return f"  {result['label']}: {count} ({result['wall_seconds']} s)"
    return f"  {result.get('failed') or result.get('skipped')}"


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Ratios to the bare endpoint, what the default request logging adds, the Redis store
    against the memory store (both with the default flags), and the repeats."""
    measured = {r["label"]: r for r in results if "per_request" in r}
    for result in measured.values():
        reference = measured.get(result["reference"] or "")
        result["vs_bare"] = round(result["per_request"] / reference["per_request"], 3) if reference else None
    logging, store = {}, {}
    for scenario in FAKE_SCENARIOS:
        info = measured.get(f"{scenario.name}, {DEFAULT.label}")
        quiet = measured.get(f"{scenario.name}, {QUIET.label}")
        shared = measured.get(f"{scenario.name}, {STORE_1.label}")
        if info and quiet:
            logging[scenario.name] = round(info["per_request"] / quiet["per_request"] - 1, 4)
        if info and shared:
            store[scenario.name] = round(shared["per_request"] / info["per_request"], 3)
    repeatability = [
        {
            "label": label,
            "first": first["per_request"],
            "second": again["per_request"],
            "difference": round(again["per_request"] / first["per_request"] - 1, 6),
            "totals_first": [run["instructions"] for run in first["runs"]],
            "totals_second": [run["instructions"] for run in again["runs"]],
        }
        for label in REPEATED
        if (first := measured.get(label)) and (again := measured.get(label + AGAIN))
    ]
    return {"logging_adds": logging, "store_vs_memory": store, "repeatability": repeatability}


def markdown(report: dict[str, Any]) -> str:
    lines = [
        f"Instructions per request under callgrind, (I(N2) - I(N1)) / (N2 - N1) with N1 = {report['n1']}, "
        f"N2 = {report['n2']}:",
        "",
        "| scenario | server flags | instructions / request | vs bare | answers (status field) |",
        "|---|---|---:|---:|---|",
    ]
    for r in report["results"]:
        if "per_request" not in r:
            lines.append(f"| {r['label']} | | {'skipped' if 'skipped' in r else 'FAILED'} | | |")
            continue
        vs_bare = f"{r['vs_bare']:.2f}x" if r.get("vs_bare") else ""
        statuses = {s for run in r["runs"] for s in run["statuses"] if s is not None}
        lines.append(
            f"| {r['scenario']}{AGAIN if r['label'].endswith(AGAIN) else ''} | {r['variant']} | "
            f"{r['per_request']:,} | {vs_bare} | {', '.join(sorted(statuses))} |"
        )
    summary = report["summary"]
    if summary["logging_adds"]:
        lines += ["", "| default request logging (info vs warning) adds | |", "|---|---:|"]
        lines += [f"| {name} | {value:+.1%} |" for name, value in summary["logging_adds"].items()]
    if summary.get("store_vs_memory"):
        lines += ["", "| the Redis store (1 worker) against the memory store | instructions |", "|---|---:|"]
        lines += [f"| {name} | {value:.2f}x |" for name, value in summary["store_vs_memory"].items()]
    for repeat in summary["repeatability"]:
        lines += [
            "",
            f"Repeatability, {repeat['label']} measured twice: {repeat['first']:,} and {repeat['second']:,} "
            f"instructions per request ({repeat['difference']:+.3%}); totals (N1, N2) "
            f"{repeat['totals_first']} and {repeat['totals_second']}.",
        ]
    lines += [f"- {message}" for message in report["skipped"] + report["problems"]]
    return "\n".join(lines)


def report(n1: int, n2: int, only: str | None, store: str | None, repeat: bool) -> dict[str, Any]:
    """Run the deterministic mode and return its report (also used by bench/run.py)."""
    if shutil.which("valgrind") is None:
        raise SystemExit("the deterministic mode needs valgrind (apt-get install valgrind)")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    jobs, skipped = plan(store, only, repeat)
    print(f"callgrind: {len(jobs)} scenarios, N1 = {n1}, N2 = {n2}; outputs in {OUT_DIR}", flush=True)
    for message in skipped:
        print(f"  {message}", flush=True)
    results = run_all(jobs, n1, n2, store)
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True, check=True)
    return {
        "machine": f"{platform.machine()}, {len(cpus())} CPUs, Python {platform.python_version()}",
        "valgrind": version.stdout.strip(),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "n1": n1,
        "n2": n2,
        "valgrind_command": " ".join(VALGRIND),
        "results": results,
        "summary": summarize(results),
        "skipped": skipped + [r["skipped"] for r in results if "skipped" in r],
        "problems": [r["failed"] for r in results if "failed" in r] + unstable(results),
    }


def unstable(results: list[dict[str, Any]]) -> list[str]:
    """Jobs whose two runs did not do the same apart from the requests: answers that changed
    status (a task moved on), or a different number of processes (one was restarted)."""
    problems = []
    for r in results:
        runs = r.get("runs", [])
        if len({s for run in runs for s in run["statuses"]}) > 1:
            problems.append(f"{r['label']}: answers changed status {[run['statuses'] for run in runs]}")
        if len({run["processes"] for run in runs}) > 1:
            problems.append(f"{r['label']}: processes {[run['processes'] for run in runs]} (a restart?)")
    return problems


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--n1", type=int, default=N1, help=f"callgrind: requests in the short run (default {N1})"
    )
    parser.add_argument(
        "--n2", type=int, default=N2, help=f"callgrind: requests in the long run (default {N2})"
    )
    parser.add_argument("--only", help="callgrind: only the scenarios whose label contains this text")
    parser.add_argument(
        "--no-repeat", action="store_true", help="callgrind: do not measure two scenarios twice"
    )
    parser.add_argument(
        "--store",
        help="also run the fake with --store: a URL, or 'redis' for a private redis-server per fake",
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    parser.add_argument(
        "--callbacks", action="store_true", help="also instructions per delivered callback (manual clock)"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "callgrind.json")
    args = parser.parse_args()
    if args.n2 <= args.n1:
        parser.error("--n2 must be larger than --n1")
    try:
        result = report(args.n1, args.n2, args.only, args.store, not args.no_repeat)
        if args.callbacks:
            from bench import callback_instructions  # it reads this module's VALGRIND and totals

            print("callgrind: instructions per delivered callback (four runs)", flush=True)
            result["callbacks"] = callback_instructions.measure()
    except KeyboardInterrupt:
        sys.exit("interrupted; every server started was stopped")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print()
    print(markdown(result))
    if "callbacks" in result:
        print(f"\n{callback_instructions.markdown(result['callbacks'])}")
    print(f"\n(written to {args.out})")
    if result["problems"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
