"""The validating proxy's added latency per request, on loopback: the `mockserver` command as the
upstream (a fake), and a second one proxying evolink to it (`--upstream`), with and without
`--record`. The same requests, one at a time on one keep-alive connection, go to the upstream
directly and through the proxy, alternating in small batches; the added latency is the
difference of the medians (and of the 99th percentiles) in the same run. Wall-clock latency
on a busy machine varies from run to run, so the CPU time each process spends per request
(from /proc) is reported beside it: the proxy's own cost. Method and results: bench/README.md.

    python bench/proxy.py                  # 5 rounds of 400 polls and 40 creates each way
    python bench/proxy.py --rounds 2 --polls 100
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.bodies import EVOLINK_BODY
from bench.http1 import Connection, encode
from bench.servers import (
    ROOT,
    about_run,
    compile_bytecode,
    fake_command,
    free_port,
    http_probe,
    publish,
    spawned,
    wait_ready,
)

RESULTS = ROOT / "bench" / "results"
CREATE, POLL = "/v1/videos/generations", "/v1/tasks/{}"
START_TIMEOUT = 30.0
BATCH = 20  # requests of one kind before the other way has its turn
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def timed(conn: Connection, raw: bytes, count: int) -> list[float]:
    """Milliseconds per request, `count` requests one after another."""
    found = []
    for _ in range(count):
        start = time.perf_counter()
        status, _ = conn.send(raw)
        found.append((time.perf_counter() - start) * 1000)
        if status != 200:
            raise RuntimeError(f"answered {status}")
    return found


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 3),
        "p99": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "mean": round(statistics.fmean(ordered), 3),
    }


def measure(args: argparse.Namespace, recording: Path | None) -> dict[str, Any]:
    upstream_port, proxy_port = free_port(), free_port()
    proxy_flags = [
        "--upstream",
        f"evolink=http://127.0.0.1:{upstream_port}",
        "--max-creates",
        str(args.rounds * args.creates * 2 + 10),
        "--log-level",
        "warning",
    ]
    if recording is not None:
        proxy_flags += ["--record", str(recording)]
    upstream_cmd = fake_command(upstream_port, ["--log-level", "warning"])
    with spawned(upstream_cmd) as up, spawned(fake_command(proxy_port, proxy_flags)) as proxy:
        wait_ready(up, http_probe(upstream_port, "/__mock/clock", 1.0), START_TIMEOUT)
        wait_ready(proxy, http_probe(proxy_port, "/__mock/clock", 1.0), START_TIMEOUT)
        with Connection(upstream_port, 10) as direct, Connection(proxy_port, 10) as through:
            task = (
                direct.request("POST", CREATE, EVOLINK_BODY)[1].split(b'"id":"', 1)[1].split(b'"')[0].decode()
            )
            polls = {
                "direct": encode("GET", direct.host, POLL.format(task)),
                "proxy": encode("GET", through.host, POLL.format(task)),
            }
            creates = {
                "direct": encode("POST", direct.host, CREATE, EVOLINK_BODY),
                "proxy": encode("POST", through.host, CREATE, EVOLINK_BODY),
            }
            conns = {"direct": direct, "proxy": through}
            for name, conn in conns.items():  # warm both paths (the proxy's client, its connection)
                timed(conn, polls[name], 20)
            samples: dict[str, list[float]] = {
                f"{kind} {name}": [] for kind in ("poll", "create") for name in conns
            }
            cpu: dict[str, float] = dict.fromkeys(samples, 0.0)
            pids = {"direct": up.pid, "proxy": proxy.pid}
            for _ in range(args.rounds):
                for kind, raws, count in (("poll", polls, args.polls), ("create", creates, args.creates)):
                    for _ in range(max(1, count // BATCH)):
                        for name in ("direct", "proxy"):
                            before = cpu_seconds(pids[name])
                            samples[f"{kind} {name}"] += timed(conns[name], raws[name], min(BATCH, count))
                            cpu[f"{kind} {name}"] += cpu_seconds(pids[name]) - before
    found = {label: summary(values) for label, values in samples.items()}
    for label, spent in cpu.items():  # the serving process's CPU per request: the fake's, or the proxy's
        found[label]["cpu"] = round(spent * 1000 / len(samples[label]), 3)
    for kind in ("poll", "create"):
        direct_, proxy_ = found[f"{kind} direct"], found[f"{kind} proxy"]
        added = {key: round(proxy_[key] - direct_[key], 3) for key in ("p50", "p99", "mean")}
        found[f"{kind} added"] = added | {"cpu": proxy_["cpu"]}  # the upstream's CPU is spent either way
    return found


def markdown(report: dict[str, Any]) -> str:
    lines = [f"{report['machine']}; {report['date']}; `{report['command']}`", ""]
    lines += ["| ms per request | p50 | p99 | mean | CPU |", "|---|---:|---:|---:|---:|"]
    for mode in ("plain", "recording"):
        for label, v in report[mode].items():
            lines.append(f"| {mode}: {label} | {v['p50']} | {v['p99']} | {v['mean']} | {v['cpu']} |")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--polls", type=int, default=400, help="polls per round, each way")
    parser.add_argument("--creates", type=int, default=40, help="creates per round, each way")
    args = parser.parse_args(argv)
    compile_bytecode()
    report = about_run("proxy.py")
    report["plain"] = measure(args, None)
    with tempfile.TemporaryDirectory() as folder:
        report["recording"] = measure(args, Path(folder) / "bench.har")
    RESULTS.mkdir(exist_ok=True)
    publish(report, RESULTS / "proxy.json", markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
