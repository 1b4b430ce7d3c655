"""Benchmarks (not tests): the fake against a bare Starlette endpoint and against Stoplight
Prism, in one run, with the same wrk settings; plus start-up time, memory and in-process
lifecycle throughput. See bench/README.md.

    python bench/run.py                 # everything (installs wrk and Prism if missing)
    python bench/run.py --duration 5    # shorter wrk runs
    python bench/run.py --skip-prism    # without Node/Prism

Everything binds to 127.0.0.1, every run is bounded in time, and every process started here
is stopped on the way out (even on errors or Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / "bench" / ".tools"
PRISM = TOOLS / "node_modules" / ".bin" / "prism"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
KEY = "mock-key"
SERVER_CPU, LOAD_CPU = "0", "1"
EVOLINK_BODY = {
    "model": "kling-o1-image-to-video",
    "prompt": "A cat walking",
    "image_urls": ["https://example.com/first-frame.jpg"],
    "duration": 5,
    "aspect_ratio": "16:9",
}
AIMLAPI_BODY = {
    "model": "klingai/video-o1-image-to-video",
    "prompt": "Mona Lisa puts on glasses",
    "image_url": "https://example.com/mona.jpg",
    "duration": "5",
}


@dataclass
class Result:
    target: str
    scenario: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


# -- tools and processes ------------------------------------------------------------------


def ensure_tools(skip_prism: bool) -> None:
    if shutil.which("wrk") is None:
        print("installing wrk from Debian's packages ...", flush=True)
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    if not skip_prism and not PRISM.exists():
        print(f"installing {PRISM_PACKAGE} from npm into {TOOLS} ...", flush=True)
        TOOLS.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            ["npm", "install", "--prefix", str(TOOLS), "--silent", "--no-audit", "--no-fund", PRISM_PACKAGE],
            check=True,
        )


def pinned(cpu: str, command: list[str]) -> list[str]:
    """Pin to one CPU where taskset exists and there are two or more cores."""
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", cpu, *command]
    return command


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(url: str, timeout: float, headers: dict[str, str] | None = None) -> float:
    """Seconds until `url` answers below 500 (raises after `timeout`)."""
    start = time.perf_counter()
    while True:
        try:
            if httpx.get(url, headers=headers, timeout=1).status_code < 500:
                return time.perf_counter() - start
        except httpx.TransportError:
            pass
        if time.perf_counter() - start > timeout:
            raise TimeoutError(f"{url} did not answer within {timeout} s")
        time.sleep(0.005)


@contextlib.contextmanager
def process(command: list[str], ready_url: str, timeout: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        wait_ready(ready_url, timeout)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


# -- wrk ------------------------------------------------------------------------------------


def _lua(method: str, body: dict[str, Any] | None, stop_after: int | None = None) -> str:
    lines = [f'wrk.method = "{method}"', f'wrk.headers["Authorization"] = "Bearer {KEY}"']
    if body is not None:
        lines += [
            'wrk.headers["Content-Type"] = "application/json"',
            f"wrk.body = {json.dumps(json.dumps(body))}",
        ]
    if stop_after is not None:
        lines += [
            "local done = 0",
            "function response(status, headers, body)",
            "  done = done + 1",
            f"  if done >= {stop_after} then wrk.thread:stop() end",
            "end",
        ]
    return "\n".join(lines) + "\n"


def wrk(
    url: str,
    method: str,
    body: dict[str, Any] | None,
    duration: int,
    connections: int,
    stop_after: int | None = None,
) -> tuple[float, float, float, int]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(method, body, stop_after))
    try:
        command = pinned(
            LOAD_CPU,
            ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", script.name, url],
        )
        out = subprocess.run(
            command, capture_output=True, text=True, timeout=duration + 60, check=True
        ).stdout
    finally:
        os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)) else 0
    return rps, _latency(out, "50%"), _latency(out, "99%"), errors


def _latency(out: str, percentile: str) -> float:
    match = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)", out)
    if match is None:
        raise RuntimeError(f"no {percentile} latency in wrk output:\n{out}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


# -- the runs ---------------------------------------------------------------------------------


def bench_bare(args: argparse.Namespace) -> list[Result]:
    port = free_port()
    # The same uvicorn settings the `mockserver` command uses, so the ratio compares apps only.
    command = pinned(
        SERVER_CPU,
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.bare_app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--no-proxy-headers",
            "--no-server-header",
        ],
    )
    base = f"http://127.0.0.1:{port}"
    with process(command, f"{base}/v1/tasks/x"):
        return [
            Result(
                "bare",
                "GET poll",
                *wrk(f"{base}/v1/tasks/task-unified-1-x", "GET", None, args.duration, args.connections),
            ),
            Result(
                "bare",
                "POST create",
                *wrk(f"{base}/v1/videos/generations", "POST", EVOLINK_BODY, args.duration, args.connections),
            ),
        ]


def fake_command(port: int) -> list[str]:
    # Logging reduced to warnings, as a user would run it under load.
    return pinned(
        SERVER_CPU,
        [
            sys.executable,
            "-m",
            "mockserver",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--seed",
            "1",
            "--log-level",
            "warning",
        ],
    )


def bench_fake(args: argparse.Namespace) -> list[Result]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {KEY}"}
    with process(fake_command(port), f"{base}/__mock/clock"):
        task = httpx.post(f"{base}/v1/videos/generations", headers=auth, json=EVOLINK_BODY).json()["id"]
        generation = httpx.post(f"{base}/v2/video/generations", headers=auth, json=AIMLAPI_BODY).json()["id"]
        encoded = httpx.QueryParams({"generation_id": generation})
        results = [
            Result(
                "fake",
                "GET poll",
                *wrk(f"{base}/v1/tasks/{task}", "GET", None, args.duration, args.connections),
            ),
            Result(
                "fake",
                "GET poll (aimlapi)",
                *wrk(f"{base}/v2/video/generations?{encoded}", "GET", None, args.duration, args.connections),
            ),
            Result(
                "fake",
                "POST create",
                *wrk(f"{base}/v1/videos/generations", "POST", EVOLINK_BODY, args.duration, args.connections),
            ),
            Result(
                "fake",
                "POST create (aimlapi)",
                *wrk(f"{base}/v2/video/generations", "POST", AIMLAPI_BODY, args.duration, args.connections),
            ),
        ]
    return results


def bench_prism(args: argparse.Namespace) -> list[Result]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = pinned(
        SERVER_CPU,
        [
            str(PRISM),
            "mock",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-v",
            "error",
            str(ROOT / "openapi" / "evolink.yaml"),
        ],
    )
    with process(command, f"{base}/v1/tasks/task-unified-1767225600-4gwykf6a", timeout=90):
        return [
            Result(
                "prism",
                "GET poll",
                *wrk(
                    f"{base}/v1/tasks/task-unified-1767225600-4gwykf6a",
                    "GET",
                    None,
                    args.duration,
                    args.connections,
                ),
            ),
            Result(
                "prism",
                "POST create",
                *wrk(f"{base}/v1/videos/generations", "POST", EVOLINK_BODY, args.duration, args.connections),
            ),
        ]


def startup_seconds(runs: int = 5) -> float:
    """Median time from spawning `mockserver` to its first successful answer."""
    times = []
    for _ in range(runs):
        port = free_port()
        start = time.perf_counter()
        proc = subprocess.Popen(
            fake_command(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}/__mock/clock", 30)
            times.append(time.perf_counter() - start)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
    return statistics.median(times)


def memory(tasks: int) -> tuple[float, float]:
    """RSS of the server idle, and after `tasks` creates over HTTP (wrk stops after `tasks`
    answers but waits out its duration, so the duration is sized for ~3,000 creates/s)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with process(fake_command(port), f"{base}/__mock/clock") as proc:
        time.sleep(0.5)
        idle = rss_mb(proc.pid)
        duration = min(120, tasks // 3000 + 5)
        wrk(f"{base}/v1/videos/generations", "POST", EVOLINK_BODY, duration, 16, stop_after=tasks)
        loaded = rss_mb(proc.pid)
        created = len(httpx.get(f"{base}/__mock/tasks", timeout=120).json()["tasks"])
        if created < tasks:
            raise RuntimeError(f"only {created} of {tasks} tasks were created in {duration} s")
        return idle, loaded


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


# -- report -------------------------------------------------------------------------------------


def ratios(results: list[Result]) -> dict[str, float]:
    by = {(r.target, r.scenario): r for r in results}
    found: dict[str, float] = {}
    for scenario in ("GET poll", "POST create"):
        fake = by.get(("fake", scenario))
        if fake is None:
            continue
        for other in ("bare", "prism"):
            ref = by.get((other, scenario))
            if ref is not None:
                found[f"{scenario}: fake/{other} req/s"] = round(
                    fake.requests_per_second / ref.requests_per_second, 2
                )
                if other == "prism":
                    found[f"{scenario}: fake p99 / prism p99"] = round(fake.p99_ms / ref.p99_ms, 2)
    return found


def markdown(report: dict[str, Any]) -> str:
    lines = ["| target | scenario | req/s | p50 ms | p99 ms | non-2xx |", "|---|---|---:|---:|---:|---:|"]
    for r in report["results"]:
        lines.append(
            f"| {r['target']} | {r['scenario']} | {r['requests_per_second']:.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['errors']} |"
        )
    lines += ["", "| ratio | value |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in report["ratios"].items()]
    lines += ["", "| measure | value |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in report["other"].items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument(
        "--tasks", type=int, default=100_000, help="tasks for the memory run (default 100000)"
    )
    parser.add_argument("--skip-prism", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    args = parser.parse_args()
    os.chdir(ROOT)
    ensure_tools(args.skip_prism)
    results = bench_bare(args) + bench_fake(args)
    if not args.skip_prism:
        results += bench_prism(args)
    idle, loaded = memory(args.tasks)
    other = {
        "start-up to first answer (s, median of 5)": round(startup_seconds(), 3),
        "RSS idle (MB)": round(idle, 1),
        f"RSS after {args.tasks} tasks (MB)": round(loaded, 1),
        **lifecycles(),
    }
    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) or "run.py",
        "settings": {
            "duration_s": args.duration,
            "connections": args.connections,
            "wrk_threads": 1,
            "server_cpu": SERVER_CPU,
            "load_cpu": LOAD_CPU,
        },
        "results": [asdict(r) for r in results],
        "ratios": ratios(results),
        "other": other,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    print(f"\n(written to {args.out})")


if __name__ == "__main__":
    main()
