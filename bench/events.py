"""The event stream's cost to provider requests: a poll's latency with five open streams and one
stalled subscriber against none, in the same run; and (with --callgrind) a poll's instructions
with five streams open against none. Method and results: bench/README.md.

    python bench/events.py                   # latency: 3 rounds of 2 x 20 s, about 2.5 minutes
    python bench/events.py --callgrind       # also instructions per poll, about 6 minutes more
    python bench/events.py --rounds 1 --seconds 10

The fake runs as users start it (default flags, real clock) at speed 10, on the first CPU;
everything else (the poller, a client creating 20 tasks a second so that lifecycles stream by,
the subscribers) runs in processes of its own on the last CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench import callgrind, control, polling
from bench.bodies import EVOLINK_BODY
from bench.burst import cpu_seconds
from bench.http1 import Connection, encode
from bench.run import on_cpu
from bench.servers import (
    ROOT,
    about_run,
    compile_bytecode,
    cpus,
    fake_command,
    free_port,
    http_probe,
    pinned,
    publish,
    server_env,
    spawned,
    stop,
    wait_ready,
)

RESULTS = ROOT / "bench" / "results"
STREAMS = 5
POLL_INTERVAL = 0.005  # a poll every 5 ms (200 a second), each one a `request` event
CREATE_INTERVAL = 0.05  # 20 creates a second: about 240 task events a second at speed 10
SPEED = "10"
N1, N2 = 200, 2200  # polls in the short and the long callgrind run
EVENTS = "/__mock/events"


# -- the subscribers, each kind in a process of its own -----------------------------------------


def _open(port: int, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket()
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {EVENTS} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    return sock


def read(port: int, count: int, out: Path) -> None:
    """`count` subscribers reading everything, until SIGTERM; the bytes each received."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    received = [0] * count

    def one(index: int) -> None:
        with _open(port) as sock:
            sock.settimeout(0.2)
            while not stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    data = sock.recv(1 << 16)
                    if not data:
                        return
                    received[index] += len(data)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    while not stopping.wait(0.1):
        pass
    for thread in threads:
        thread.join(5)
    out.write_text(json.dumps({"bytes": received}))


def stall(port: int, out: Path) -> None:
    """A subscriber that never reads (a 4 KB receive buffer), until SIGTERM; whether the fake
    reset its connection (cut it off) by then."""
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with _open(port, 4096) as sock:
        while not stopping.wait(0.1):
            pass
        out.write_text(json.dumps({"cut_off": _ended(sock)}))


def _ended(sock: socket.socket, within: float = 2.0) -> bool:
    """Read what the kernel holds: a connection the fake cut off ends (reset or closed) before
    `within` seconds; a live one goes on."""
    deadline = time.monotonic() + within
    sock.settimeout(within)
    try:
        while sock.recv(1 << 20):
            if time.monotonic() > deadline:
                return False
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False
    return True


@contextlib.contextmanager
def subscribers(port: int, cpu: str | None, work: Path) -> Iterator[dict[str, Any]]:
    """Five reading streams and one stalled subscriber; what they saw, once the block ends."""
    seen: dict[str, Any] = {}
    module = [sys.executable, "-m", "bench.events"]
    readers, stalled = work / "readers.json", work / "stalled.json"
    with (
        spawned(pinned(cpu, [*module, "read", str(port), str(STREAMS), str(readers)])),
        spawned(pinned(cpu, [*module, "stall", str(port), str(stalled)])),
    ):
        time.sleep(1.0)  # both connected and subscribed
        yield seen
    seen |= json.loads(readers.read_text()) | json.loads(stalled.read_text())


# -- load and measurement --------------------------------------------------------------------


@contextlib.contextmanager
def creating(port: int) -> Iterator[None]:
    """Tasks created at a steady rate, so their lifecycles stream by."""
    stopping = threading.Event()

    def run() -> None:
        with Connection(port, 60) as conn:
            raw = encode("POST", conn.host, control.EVOLINK_CREATE, EVOLINK_BODY)
            while not stopping.wait(CREATE_INTERVAL):
                conn.send(raw)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        thread.join(10)


def latency(rounds: int, seconds: float, where: tuple[str | None, str | None]) -> dict[str, Any]:
    server_cpu, client_cpu = where
    work = RESULTS / "events"
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    samples = work / "polls.json"
    command = pinned(server_cpu, fake_command(port, ("--speed", SPEED)))
    windows: list[dict[str, Any]] = []
    with spawned(command, log=work / "fake.log", env=server_env()) as proc, on_cpu(client_cpu):
        wait_ready(proc, http_probe(port, "/__mock/clock", 10), 60, work / "fake.log")
        task_id = control.create(port, control.EVOLINK_CREATE, EVOLINK_BODY)
        poll = [sys.executable, "-m", "bench.polling", str(port), f"/v1/tasks/{task_id}"]
        with creating(port), spawned(pinned(client_cpu, [*poll, str(POLL_INTERVAL), str(samples)])) as poller:
            time.sleep(2.0)
            for number in range(rounds):
                for streams in (False, True):
                    with contextlib.ExitStack() as phase:
                        seen = phase.enter_context(subscribers(port, client_cpu, work)) if streams else {}
                        start, cpu = time.time(), cpu_seconds(proc.pid)
                        time.sleep(seconds)
                        end, cpu = time.time(), cpu_seconds(proc.pid) - cpu
                    windows.append(
                        {"round": number + 1, "streams": streams, "start": start, "end": end, "cpu": cpu}
                        | seen
                    )
            stop(poller)
    found = polling.read(samples)
    for window in windows:
        window.update(polling.figures(found, window["start"], window["end"]))
    return {"windows": windows, "ratios": _ratios(windows)}


def _ratios(windows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ratios = []
    for quiet, busy in zip(windows[::2], windows[1::2], strict=True):
        ratios.append(
            {
                "round": quiet["round"],
                "p50": round(busy["p50_ms"] / quiet["p50_ms"], 3),
                "p99": round(busy["p99_ms"] / quiet["p99_ms"], 3),
                "cpu": round(busy["cpu"] / quiet["cpu"], 3),
            }
        )
    return ratios


# -- instructions per poll, under callgrind ---------------------------------------------------


def instructions(streams: int, requests: int, cpu: str | None, pad_to: float) -> tuple[int, float]:
    """Total instructions of the fake serving `requests` polls with `streams` reading streams."""
    work = RESULTS / "events"
    prefix = work / f"callgrind-{streams}.n{requests}"
    for old in work.glob(f"{prefix.name}.*"):
        old.unlink()
    port = free_port()
    command = [
        *callgrind.VALGRIND,
        f"--callgrind-out-file={prefix}.%p.out",
        f"--log-file={prefix}.%p.valgrind",
        *fake_command(port, ("--seed", "1", "--clock", "manual")),
    ]
    log = Path(f"{prefix}.log")
    with spawned(pinned(cpu, command), log=log, env=server_env(PYTHONHASHSEED="0")) as proc:
        wait_ready(proc, http_probe(port, "/__mock/clock", 120), callgrind.READY_TIMEOUT, log)
        task_id = control.create(port, control.EVOLINK_CREATE, EVOLINK_BODY)
        with contextlib.ExitStack() as open_streams:
            if streams:
                out = work / f"readers-{streams}.json"
                module = [sys.executable, "-m", "bench.events", "read", str(port), str(streams), str(out)]
                open_streams.enter_context(spawned(module))
                time.sleep(5.0)  # subscribed (slow under valgrind)
            with Connection(port, 120) as conn:
                raw = encode("GET", conn.host, f"/v1/tasks/{task_id}")
                started = time.perf_counter()
                for _ in range(requests):
                    conn.send(raw)
                took = time.perf_counter() - started
            callgrind.pause(pad_to - took + 2.0)  # the journal's last entries read and sent
        stop(proc)
    total = sum(callgrind.total(path) for path in work.glob(f"{prefix.name}.*.out"))
    return total, took


def per_poll(cpu: str | None) -> dict[str, Any]:
    found = {}
    for streams in (0, STREAMS):
        long, took = instructions(streams, N2, cpu, 0.0)
        short, _ = instructions(streams, N1, cpu, took)
        found[streams] = round((long - short) / (N2 - N1))
        print(f"  {streams} streams: {found[streams]:,} instructions per poll", flush=True)
    return {
        "none": found[0],
        "five_streams": found[STREAMS],
        "ratio": round(found[STREAMS] / found[0], 3),
    }


def _median(values: Iterator[float]) -> float:
    return statistics.median(list(values))


def markdown(report: dict[str, Any]) -> str:
    lines = [
        "| round | subscribers | polls | p50 ms | p99 ms | max ms | fake's CPU (s) | stalled one cut off |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for w in report["latency"]["windows"]:
        who = "5 streams + 1 stalled" if w["streams"] else "none"
        cut = ("yes" if w.get("cut_off") else "no") if w["streams"] else ""
        lines.append(
            f"| {w['round']} | {who} | {w['polls']} | {w['p50_ms']} | {w['p99_ms']} | {w['max_ms']} "
            f"| {w['cpu']:.2f} | {cut} |"
        )
    lines += ["", "| round | p50 ratio | p99 ratio | CPU ratio |", "|---:|---:|---:|---:|"]
    lines += [
        f"| {r['round']} | {r['p50']:.2f}x | {r['p99']:.2f}x | {r['cpu']:.2f}x |"
        for r in report["latency"]["ratios"]
    ]
    ratios = report["latency"]["ratios"]
    lines.append(
        f"| median | {_median(r['p50'] for r in ratios):.2f}x | {_median(r['p99'] for r in ratios):.2f}x "
        f"| {_median(r['cpu'] for r in ratios):.2f}x |"
    )
    if "callgrind" in report:
        c = report["callgrind"]
        lines += [
            "",
            f"Instructions per poll: {c['none']:,} with no subscriber, {c['five_streams']:,} with five "
            f"streams reading ({c['ratio']:.2f}x).",
        ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("read", "stall"):
        if sys.argv[1] == "read":
            read(int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]))
        else:
            stall(int(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0, help="each phase's length")
    parser.add_argument("--callgrind", action="store_true", help="also instructions per poll")
    parser.add_argument("--out", type=Path, default=RESULTS / "events.json")
    args = parser.parse_args()
    compile_bytecode()
    listed = cpus()
    where = (listed[0], listed[-1]) if len(listed) > 1 else (None, None)
    report: dict[str, Any] = about_run("events.py")
    report["latency"] = latency(args.rounds, args.seconds, where)
    if args.callgrind:
        report["callgrind"] = per_poll(where[0])
    RESULTS.mkdir(exist_ok=True)
    publish(report, args.out, markdown)


if __name__ == "__main__":
    main()
