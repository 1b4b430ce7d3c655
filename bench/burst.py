"""The full-size callback burst (tests/callbacks/test_burst.py at 10,000 tasks) against the
`mockserver` command, the loopback receiver in its own process: on the real clock, callbacks per
second and a poll's latency during the burst against just before it; on a manual clock, the time
the advance over the burst takes; and the time a stop (SIGTERM) in the middle of a burst to a
receiver that never answers takes. Method and results: bench/README.md.

    python bench/burst.py                  # every part, about 4 minutes
    python bench/burst.py --only manual    # one part: real, manual or stop
    python bench/burst.py --tasks 2000     # a smaller burst
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import control, polling
from bench.bodies import EVOLINK_BODY
from bench.receiver import received, wait_for
from bench.run import Cpus, on_cpu
from bench.servers import ROOT, about_run, compile_bytecode, cpus, publish, rss_mb, spawned, stop
from tests.callbacks.receiver import LoopbackReceiver

RESULTS = ROOT / "bench" / "results"
TASKS = 10_000
CALLBACKS = ("--allow-callback-host", "127.0.0.1")
LIFETIME = 79.0  # fake seconds from create to end at the defaults (queued 2, running 77)
CONCURRENCY = 64  # callback attempts in flight at once, the default (MOCKSERVER_CALLBACK_CONCURRENCY)
POLL_INTERVAL = 0.01  # one poll every 10 ms: enough polls in a burst of seconds for a p99
QUIET = 15.0  # seconds of polling with no burst just before it: the reference of the same run
DRAIN = 300.0  # seconds a burst may take to be delivered before the bench gives up on it
# The stop part on the real clock: tasks end this many seconds after they are created (not 77 s
# of waiting for nothing: how long they ran does not change the stop).
STOP_RUN_SECONDS = "10"


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def poll_target(port: int) -> str:
    """A task completed at once (no callback), polled the whole run: the same answer before and
    during the burst, so only the burst differs."""
    task_id = control.create(port, control.EVOLINK_CREATE, EVOLINK_BODY)
    control.call(port, "POST", f"/__mock/tasks/{task_id}/complete")
    return task_id


@contextlib.contextmanager
def polled(port: int, task_id: str, out: Path) -> Iterator[None]:
    """A client polling the task in its own process until the block ends; its samples in `out`."""
    path = f"/v1/tasks/{task_id}"
    command = [sys.executable, "-m", "bench.polling", str(port), path, str(POLL_INTERVAL), str(out)]
    with spawned(command):
        yield


def spread(values: list[float], unit: float = 1.0) -> dict[str, float]:
    """p50, p99 and max of `values`, times `unit`."""
    ordered = sorted(values)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive") if len(ordered) > 1 else ordered * 99
    return {
        "p50": round(cuts[49] * unit, 3),
        "p99": round(cuts[98] * unit, 3),
        "max": round(ordered[-1] * unit, 3),
    }


def outcomes(deliveries: list[dict[str, Any]], ids: set[str], got: Counter[str]) -> dict[str, Any]:
    """What the fake recorded and what the receiver got: every task called back exactly once,
    attempts beyond the first (retries) and attempts that timed out."""
    attempts = [a for d in deliveries for a in d["attempts"]]
    return {
        "deliveries": len(deliveries),
        "states": dict(Counter(d["state"] for d in deliveries)),
        "attempts": len(attempts),
        "retries": len(attempts) - len(deliveries),
        "timeouts": sum(1 for a in attempts if a["outcome"] == "timeout"),
        "outcomes": dict(Counter(a["outcome"] for a in attempts)),
        "called_back_once": sum(1 for task_id in ids if got[task_id] == 1),
        "never_called_back": sum(1 for task_id in ids if got[task_id] == 0),
        "called_back_twice_or_more": sum(1 for task_id in ids if got[task_id] > 1),
        "unknown_ids": sum(1 for task_id in got if task_id not in ids),
        "attempt_duration_ms": spread([a["duration"] for a in attempts], 1000),
    }


def ratios(during: dict[str, Any], quiet: dict[str, Any]) -> dict[str, float]:
    return {
        name: round(during[f"{name}_ms"] / quiet[f"{name}_ms"], 2)
        for name in ("p50", "p99", "max")
        if during.get(f"{name}_ms") and quiet.get(f"{name}_ms")
    }


def real_clock(tasks: int, where: Cpus, flags: tuple[str, ...]) -> dict[str, Any]:
    """The fake on its defaults: `tasks` tasks created as fast as it takes them end 79 s later,
    spread as their creates were; a client polls throughout."""
    log, polls = RESULTS / "burst-real.log", RESULTS / "burst-real-polls.json"
    with (
        LoopbackReceiver().running() as receiver,
        control.fake((*CALLBACKS, *flags), log, where.server) as (proc, port),
    ):
        target = poll_target(port)
        with polled(port, target, polls):
            started = time.time()
            control.create_many(
                port, control.EVOLINK_CREATE, {**EVOLINK_BODY, "callback_url": receiver.url}, tasks
            )
            created = time.time()
            ends = {t["id"]: t["ends_at"] for t in control.tasks(port) if t["id"] != target}
            first, last = min(ends.values()), max(ends.values())
            if first - 1 - QUIET <= time.time():
                raise RuntimeError("the burst would start before the quiet polls: fewer --tasks")
            time.sleep(first - 1 - time.time())
            cpu, since = cpu_seconds(proc.pid), time.time()
            wait_for(receiver, tasks, last - time.time() + DRAIN)
            cpu, wall = cpu_seconds(proc.pid) - cpu, time.time() - since
            time.sleep(1)  # a repeated callback would come now
            rss = rss_mb(proc.pid)
        deliveries = control.deliveries(port)
        got = receiver.ids()
    samples = polling.read(polls)
    done = max(a["time"] + a["duration"] for d in deliveries for a in d["attempts"])
    lateness = [d["attempts"][0]["time"] - ends[d["task_id"]] for d in deliveries]
    quiet = polling.figures(samples, first - 1 - QUIET, first - 1)
    during = polling.figures(samples, first, done)
    return {
        "tasks": tasks,
        "create_seconds": round(created - started, 2),
        "ends_spread_seconds": round(last - first, 2),
        "burst_seconds": round(done - first, 2),
        "callbacks_per_second": round(len(deliveries) / (done - first)),
        # From a second before the first end until the last callback was seen: the fake's
        # CPU time per callback, and whether it was the bottleneck (1.0: a whole CPU).
        "server_cpu_ms_per_callback": round(cpu * 1000 / len(deliveries), 3),
        "server_cpu_busy": round(cpu / wall, 2),
        "first_attempt_late_s": spread(lateness),
        **outcomes(deliveries, set(ends), got),
        "polls_quiet": quiet,
        "polls_burst": during,
        "poll_ratio": ratios(during, quiet),
        "rss_mb_after": round(rss, 1),
        "log": control.notices(log),
    }


def manual_clock(tasks: int, where: Cpus, flags: tuple[str, ...]) -> dict[str, Any]:
    """`tasks` tasks created on a manual clock (so they end at one fake instant), then one
    `POST /__mock/clock/advance` over their end; a client polls throughout."""
    log, polls = RESULTS / "burst-manual.log", RESULTS / "burst-manual-polls.json"
    with (
        LoopbackReceiver().running() as receiver,
        control.fake((*CALLBACKS, "--clock", "manual", *flags), log, where.server) as (proc, port),
    ):
        target = poll_target(port)
        control.create_many(
            port, control.EVOLINK_CREATE, {**EVOLINK_BODY, "callback_url": receiver.url}, tasks
        )
        listed = control.tasks(port)
        ids = {t["id"] for t in listed if t["id"] != target}
        start = min(t["created_at"] for t in listed)
        with polled(port, target, polls):
            time.sleep(QUIET)
            cpu, before = cpu_seconds(proc.pid), time.time()
            took = control.advance(port, LIFETIME + 1)
            returned = time.time()
            at_return = received(receiver)
            wait_for(receiver, tasks, DRAIN)
            drained = time.time()
            cpu = cpu_seconds(proc.pid) - cpu
            time.sleep(1)  # a repeated callback would come now
        deliveries = control.deliveries(port)
        got = receiver.ids()
    samples = polling.read(polls)
    quiet = polling.figures(samples, before - QUIET, before)
    during = polling.figures(samples, before, returned)
    until_drained = polling.figures(samples, before, drained)
    sent_at = Counter(round(a["time"] - start) for d in deliveries for a in d["attempts"])
    return {
        "tasks": tasks,
        "advance_seconds": round(took, 2),
        "callbacks_when_advance_returned": at_return,
        "drained_seconds": round(drained - before, 2),
        "callbacks_per_second": round(tasks / (drained - before)),
        # From the advance until the last callback was seen (the polls' share included).
        "server_cpu_ms_per_callback": round(cpu * 1000 / tasks, 3),
        "server_cpu_busy": round(cpu / (drained - before), 2),
        "attempts_sent_at_fake_second": {str(k): v for k, v in sorted(sent_at.items())},
        **outcomes(deliveries, ids, got),
        "polls_quiet": quiet,
        "polls_during_advance": during,
        "polls_until_drained": until_drained,
        "poll_ratio_during_advance": ratios(during, quiet),
        "poll_ratio_until_drained": ratios(until_drained, quiet),
        "log": control.notices(log),
    }


def stop_in_burst(tasks: int, where: Cpus, flags: tuple[str, ...], clock: str) -> dict[str, Any]:
    """SIGTERM once the receiver, which never answers, holds every attempt the fake sends at once
    (the rest wait in the fake's queue). On the manual clock the advance is still settling (a
    request in flight); on the real clock nothing but the callbacks is in flight."""
    log = RESULTS / f"burst-stop-{clock}.log"
    env = {"MOCKSERVER_RUN_SECONDS": STOP_RUN_SECONDS} if clock == "real" else {}
    with (
        LoopbackReceiver(hang=True).running() as receiver,
        control.fake((*CALLBACKS, "--clock", clock, *flags), log, where.server, **env) as (proc, port),
    ):
        control.create_many(
            port, control.EVOLINK_CREATE, {**EVOLINK_BODY, "callback_url": receiver.url}, tasks
        )
        if clock == "manual":
            threading.Thread(target=advance_until_stopped, args=(port,), daemon=True).start()
        sent = wait_for(receiver, min(tasks, CONCURRENCY), 60 + float(STOP_RUN_SECONDS))
        time.sleep(0.5)  # in the middle: the workers hang on their requests, the queue is full
        started = time.perf_counter()
        by_itself = stop(proc, timeout=60)
        took = time.perf_counter() - started
    return {
        "clock": clock,
        "tasks": tasks,
        "callbacks_in_flight": sent,
        "stop_seconds": round(took, 2),
        "exited_by_itself": by_itself,
        "exit_status": proc.returncode,
        "log": control.notices(log),
    }


def advance_until_stopped(port: int) -> None:
    with contextlib.suppress(OSError, RuntimeError):  # the stop cuts it off: that is the point
        control.advance(port, LIFETIME + 1)


def markdown(report: dict[str, Any]) -> str:
    lines = [f"{report['date']}, {report['machine']}; `{report['command']}`"]
    if real := report.get("real"):
        lines += table(
            "real clock",
            [
                ("tasks, created in", f"{real['tasks']:,}, {real['create_seconds']} s"),
                ("their ends spread over", f"{real['ends_spread_seconds']} s"),
                ("burst: first end to last answer", f"{real['burst_seconds']} s"),
                ("callbacks per second", f"{real['callbacks_per_second']:,}"),
                ("fake's CPU per callback", f"{real['server_cpu_ms_per_callback']} ms"),
                ("fake's CPU busy during the burst", f"{real['server_cpu_busy']:.0%}"),
                (
                    "first attempt sent after its task ended, p50 / p99 / max (s)",
                    fmt(real["first_attempt_late_s"]),
                ),
                ("attempt duration, p50 / p99 / max (ms)", fmt(real["attempt_duration_ms"])),
                *checks(real),
                ("poll, quiet: p50 / p99 / max (ms), polls", fmt_polls(real["polls_quiet"])),
                ("poll, in the burst", fmt_polls(real["polls_burst"])),
                ("in the burst / quiet: p50 / p99 / max", fmt_ratio(real["poll_ratio"])),
            ],
        )
    if manual := report.get("manual"):
        lines += table(
            "manual clock",
            [
                (
                    f"`clock/advance` over {manual['tasks']:,} due at one instant",
                    f"{manual['advance_seconds']} s",
                ),
                ("callbacks received when it returned", f"{manual['callbacks_when_advance_returned']:,}"),
                (
                    "all received after",
                    f"{manual['drained_seconds']} s ({manual['callbacks_per_second']:,}/s)",
                ),
                ("fake's CPU per callback", f"{manual['server_cpu_ms_per_callback']} ms"),
                ("fake's CPU busy until all received", f"{manual['server_cpu_busy']:.0%}"),
                (
                    "attempts sent at fake second (from the creates)",
                    str(manual["attempts_sent_at_fake_second"]),
                ),
                *checks(manual),
                ("poll, quiet: p50 / p99 / max (ms), polls", fmt_polls(manual["polls_quiet"])),
                ("poll, during the advance", fmt_polls(manual["polls_during_advance"])),
                ("poll, until all received", fmt_polls(manual["polls_until_drained"])),
                ("during the advance / quiet", fmt_ratio(manual["poll_ratio_during_advance"])),
                ("until all received / quiet", fmt_ratio(manual["poll_ratio_until_drained"])),
            ],
        )
    for stopped in report.get("stop", ()):
        lines += table(
            f"stop (SIGTERM) mid-burst, {stopped['clock']} clock",
            [
                (
                    "callbacks in flight (to a receiver that never answers)",
                    str(stopped["callbacks_in_flight"]),
                ),
                ("seconds to exit", str(stopped["stop_seconds"])),
                ("exited by itself", "yes" if stopped["exited_by_itself"] else "no (killed)"),
            ],
        )
    return "\n".join(lines)


def table(title: str, rows: list[tuple[str, str]]) -> list[str]:
    return ["", f"| {title} | |", "|---|---:|", *(f"| {label} | {value} |" for label, value in rows)]


def checks(part: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        ("attempts, retries, timeouts", f"{part['attempts']:,}, {part['retries']}, {part['timeouts']}"),
        ("tasks called back exactly once", f"{part['called_back_once']:,} of {part['tasks']:,}"),
        (
            "log lines: httpx's per callback, others",
            f"{part['log']['callback_lines']:,}, {part['log']['other_lines']}",
        ),
    ]


def fmt(values: dict[str, float]) -> str:
    return f"{values['p50']} / {values['p99']} / {values['max']}"


def fmt_polls(polls: dict[str, Any]) -> str:
    return f"{polls.get('p50_ms')} / {polls.get('p99_ms')} / {polls.get('max_ms')}, {polls['polls']}"


def fmt_ratio(values: dict[str, float]) -> str:
    return " / ".join(f"{values.get(name, '-')}x" for name in ("p50", "p99", "max"))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=TASKS, help=f"tasks in each burst (default {TASKS})")
    parser.add_argument("--only", choices=("real", "manual", "stop"), help="run one part")
    parser.add_argument("--log-level", help="the fake's --log-level (default: its own, info)")
    parser.add_argument("--no-pin", action="store_true", help="pin nothing")
    parser.add_argument("--out", type=Path, default=RESULTS / "burst.json")
    args = parser.parse_args()
    available = cpus()
    pin = not args.no_pin and len(available) >= 2 and shutil.which("taskset") is not None
    where = Cpus(",".join(available[:-1]), available[-1]) if pin else Cpus(None, None)
    flags = ("--log-level", args.log_level) if args.log_level else ()
    RESULTS.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    report: dict[str, Any] = {
        **about_run("burst.py"),
        "server_cpus": where.server,
        "client_cpu": where.load,
    }
    try:
        # The receiver and the poller start from here and inherit this CPU.
        with on_cpu(where.load):
            if args.only in (None, "real"):
                report["real"] = real_clock(args.tasks, where, flags)
            if args.only in (None, "manual"):
                report["manual"] = manual_clock(args.tasks, where, flags)
            if args.only in (None, "stop"):
                report["stop"] = [
                    stop_in_burst(args.tasks, where, flags, clock) for clock in ("manual", "real")
                ]
    except KeyboardInterrupt:
        sys.exit("interrupted; every process started was stopped")
    publish(report, args.out, markdown)


if __name__ == "__main__":
    main()
