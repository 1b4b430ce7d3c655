"""Resident memory across repeated create/expire rounds against the `mockserver` command on a
manual clock: each round creates N tasks (half evolink with a callback to the loopback receiver,
half aimlapi), runs them to their end and their callbacks to delivery, then moves the clock past
retention so they are pruned; after each round, the fake's RSS and what its control plane still
shows. Once with the journal at its default limit, once at a small one. Method and results:
bench/README.md (tests/store/test_churn.py is the suite-sized version).

    python bench/churn.py                          # 6 rounds of 50,000 tasks, both limits
    python bench/churn.py --rounds 3 --tasks 10000 --journal-limits 1000
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench import control
from bench.bodies import AIMLAPI_BODY, EVOLINK_BODY
from bench.receiver import wait_for
from bench.run import on_cpu
from bench.servers import ROOT, about_run, compile_bytecode, cpus, publish, rss_mb
from mockserver import Settings
from tests.callbacks.receiver import LoopbackReceiver

RESULTS = ROOT / "bench" / "results"
TASKS = 50_000
ROUNDS = 6
JOURNAL_LIMITS = (Settings().journal_limit, 1_000)  # the default (MOCKSERVER_JOURNAL_LIMIT), and a small one
LIFETIME = 79.0  # fake seconds from create to end at the defaults (queued 2, running 77)
RETENTION = 604_800.0  # fake seconds a task is kept after it ends, the default
# Past retention for tasks and their deliveries: a delivery is made when its task ends and is
# kept for retention plus a lifetime from then, so it outlives its task by a lifetime.
PAST_RETENTION = RETENTION + 2 * LIFETIME + 1
DRAIN = 300.0  # seconds a round's callbacks may take to be delivered before the bench gives up
SETTLED = 1.0  # seconds after the prune before RSS is read (the allocator's frees done)


def one_round(pid: int, port: int, tasks: int) -> dict[str, Any]:
    """Create, end, deliver, prune; RSS along the way and what is left afterwards."""
    # A fresh receiver each round: the ids it lists stay one round long.
    with LoopbackReceiver().running() as receiver:
        started = time.perf_counter()
        half = tasks // 2
        control.create_many(
            port, control.EVOLINK_CREATE, {**EVOLINK_BODY, "callback_url": receiver.url}, half
        )
        control.create_many(port, control.AIMLAPI_CREATE, AIMLAPI_BODY, tasks - half)
        rss_created = rss_mb(pid)
        listed = control.tasks(port)
        control.advance(port, LIFETIME + 1)
        got = wait_for(receiver, half, DRAIN)
        result = urlsplit(control.call(port, "GET", f"/__mock/tasks/{listed[0]['id']}")["result_url"]).path
        media_before = control.status_of(port, result)
        rss_ended = rss_mb(pid)
        control.advance(port, PAST_RETENTION)
    time.sleep(SETTLED)
    rss_pruned = rss_mb(pid)
    return {
        "rss_mb_created": round(rss_created, 1),
        "rss_mb_ended": round(rss_ended, 1),
        "rss_mb_pruned": round(rss_pruned, 1),
        "tasks_listed": len(listed),
        "callbacks_received": got,
        "tasks_left": len(control.tasks(port)),
        "deliveries_left": len(control.deliveries(port)),
        "result_file_before": media_before,
        "result_file_after": control.status_of(port, result),
        "journal_entries": control.journal_length(port),
        "seconds": round(time.perf_counter() - started, 1),
    }


def churn(tasks: int, rounds: int, journal_limit: int, server_cpu: str | None) -> dict[str, Any]:
    log = RESULTS / f"churn-journal-{journal_limit}.log"
    flags = ("--allow-callback-host", "127.0.0.1", "--clock", "manual")
    with control.fake(flags, log, server_cpu, MOCKSERVER_JOURNAL_LIMIT=str(journal_limit)) as (proc, port):
        time.sleep(SETTLED)
        idle = rss_mb(proc.pid)
        rows = []
        for number in range(1, rounds + 1):
            rows.append(one_round(proc.pid, port, tasks))
            print(f"  journal limit {journal_limit:,}, round {number}: {rows[-1]}", flush=True)
    return {
        "journal_limit": journal_limit,
        "tasks_per_round": tasks,
        "rss_mb_idle": round(idle, 1),
        "rounds": rows,
        "log": control.notices(log),
    }


def markdown(report: dict[str, Any]) -> str:
    lines = [f"{report['date']}, {report['machine']}; `{report['command']}`"]
    for run in report["runs"]:
        lines += [
            "",
            f"Journal limit {run['journal_limit']:,}, {run['tasks_per_round']:,} tasks per round, "
            f"idle RSS {run['rss_mb_idle']} MB:",
            "",
            "| round | RSS created (MB) | RSS ended (MB) | RSS pruned (MB) | tasks listed | callbacks "
            "| tasks left | deliveries left | result file before / after | journal | seconds |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
        ]
        for number, r in enumerate(run["rounds"], 1):
            cells = [
                number,
                r["rss_mb_created"],
                r["rss_mb_ended"],
                r["rss_mb_pruned"],
                f"{r['tasks_listed']:,}",
                f"{r['callbacks_received']:,}",
                r["tasks_left"],
                r["deliveries_left"],
                f"{r['result_file_before']} / {r['result_file_after']}",
                f"{r['journal_entries']:,}",
                r["seconds"],
            ]
            lines.append("| " + " | ".join(map(str, cells)) + " |")
        lines += ["", f"Log: {run['log']}"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=TASKS, help=f"tasks per round (default {TASKS})")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"rounds (default {ROUNDS})")
    parser.add_argument(
        "--journal-limits",
        default=",".join(map(str, JOURNAL_LIMITS)),
        help="MOCKSERVER_JOURNAL_LIMIT of each run, comma-separated (default: %(default)s)",
    )
    parser.add_argument("--no-pin", action="store_true", help="pin nothing")
    parser.add_argument("--out", type=Path, default=RESULTS / "churn.json")
    args = parser.parse_args()
    available = cpus()
    pin = not args.no_pin and len(available) >= 2 and shutil.which("taskset") is not None
    server_cpu, client_cpu = (",".join(available[:-1]), available[-1]) if pin else (None, None)
    RESULTS.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    report: dict[str, Any] = {
        **about_run("churn.py"),
    }
    try:
        with on_cpu(client_cpu):  # the receivers start from here and inherit this CPU
            limits = [int(limit) for limit in args.journal_limits.split(",")]
            report["runs"] = [churn(args.tasks, args.rounds, limit, server_cpu) for limit in limits]
    except KeyboardInterrupt:
        sys.exit("interrupted; every process started was stopped")
    publish(report, args.out, markdown)


if __name__ == "__main__":
    main()
