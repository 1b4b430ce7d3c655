"""The servers under test as processes: the fake started exactly as users start it, the bare
reference under the fake's uvicorn flags, CPU pinning, free ports on 127.0.0.1, readiness, and
process groups that are always stopped on the way out (errors and Ctrl-C included)."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.http1 import Connection

ROOT = Path(__file__).resolve().parent.parent
READY_PATH = {"bare": "/v1/tasks/ready", "fake": "/__mock/clock"}
STOP_TIMEOUT = 120.0  # seconds for a server to stop by itself (under valgrind it writes its counts)
_running: set[subprocess.Popen[bytes]] = set()  # every group started here, for stop_all()


class ServerFailed(RuntimeError):
    """A server exited or did not answer in time; the message ends with the tail of its output."""


def bare_command(port: int) -> list[str]:
    # mockserver/cli.py's uvicorn settings (warning level, no access log, no proxy headers, no
    # Server header), so a ratio to the bare endpoint compares the applications only.
    return [
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
    ]


def fake_command(port: int, flags: Sequence[str] = ()) -> list[str]:
    """`mockserver` on its defaults (info logging, memory store, unlimited credits, real clock):
    only the address, a fixed seed and `flags` are given."""
    return [
        sys.executable,
        "-m",
        "mockserver",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--seed",
        "1",
        *flags,
    ]


def cpus() -> list[str]:
    return [str(cpu) for cpu in sorted(os.sched_getaffinity(0))]


def pinned(cpu_list: str | None, command: list[str]) -> list[str]:
    """`command` on the CPUs of `cpu_list` (taskset's form: "0", "0,1"); None pins nothing."""
    if cpu_list is None or shutil.which("taskset") is None:
        return command
    return ["taskset", "-c", cpu_list, *command]


def free_port() -> int:
    """A free port on 127.0.0.1 from the kernel's ephemeral range (five digits here, so URLs and
    Host headers are the same length on every run)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(**extra: str) -> dict[str, str]:
    """This environment without MOCKSERVER_* variables, which would change the fake's defaults."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("MOCKSERVER_")}
    return {**env, **extra}


def compile_bytecode() -> None:
    """Byte-compile the project as pip does for an installed package: with PYTHONDONTWRITEBYTECODE
    set (as on some CI images), every start would otherwise compile the fake from source."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "mockserver"), str(ROOT / "bench")],
        check=True,
        timeout=300,
    )


@contextlib.contextmanager
def spawned(
    command: list[str], *, log: Path | None = None, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `command` in its own process group (its output in `log`); stop the group on exit."""
    with contextlib.ExitStack() as files:
        out = files.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
            env=server_env() if env is None else env,
        )
        _running.add(proc)
        try:
            yield proc
        finally:
            stop(proc)
            _running.discard(proc)


def stop(proc: subprocess.Popen[bytes], timeout: float = STOP_TIMEOUT) -> bool:
    """SIGTERM to the main process only (uvicorn's supervisor stops its own workers, one signal
    each), then whatever is left of the group is killed. True if it all ended by itself."""
    deadline = time.monotonic() + timeout
    try:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
        while group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        return not group(proc.pid)
    except subprocess.TimeoutExpired:
        return False
    finally:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(10)


def stop_all() -> None:
    """Kill every group still running (Ctrl-C while other threads drive servers)."""
    for proc in list(_running):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def group(pgid: int) -> list[int]:
    """Live (not zombie) processes of a process group, from /proc."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(stat.parent.name))
    return members


def rss_mb(pgid: int) -> float:
    """Resident memory of a whole process group (a supervisor and its workers), summed."""
    total_kb = 0
    for pid in group(pgid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


def http_probe(port: int, path: str, timeout: float) -> Callable[[], bool]:
    def answers() -> bool:
        try:
            with Connection(port, timeout) as conn:
                return conn.request("GET", path)[0] < 500
        except OSError:
            return False

    return answers


def wait_ready(
    proc: subprocess.Popen[bytes], probe: Callable[[], bool], timeout: float, log: Path | None = None
) -> float:
    """Seconds until `probe` succeeds; ServerFailed if the process exits first or time runs out."""
    start = time.perf_counter()
    while not probe():
        if proc.poll() is not None:
            raise ServerFailed(f"exited with status {proc.returncode} before answering{tail(log)}")
        if time.perf_counter() - start > timeout:
            raise ServerFailed(f"did not answer within {timeout:g} s{tail(log)}")
        time.sleep(0.005)
    return time.perf_counter() - start


def tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").strip().splitlines()[-lines:]
    return ":\n    " + "\n    ".join(text) if text else ""


def about_run(script: str) -> dict[str, Any]:
    """What every report starts with: the machine, the date and the command that made it."""
    return {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join([f"python bench/{script}", *sys.argv[1:]]),
    }


def publish(report: dict[str, Any], out: Path, markdown: Callable[[dict[str, Any]], str]) -> None:
    """Write the report as JSON to `out` and print it as markdown."""
    out.write_text(json.dumps(report, indent=2))
    print(markdown(report))
    print(f"\n(written to {out})")
