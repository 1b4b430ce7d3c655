"""Instructions per delivered callback under callgrind, on the manual clock: the fake (the
`mockserver` command, under valgrind) creates N tasks, with a callback to the loopback receiver
or without one, and one `clock/advance` past their end delivers the callbacks. Four runs:

    per callback = ((I_cb(N2) - I_cb(N1)) - (I_none(N2) - I_none(N1))) / (N2 - N1)

so start-up, shutdown, the creates and the advance itself cancel, and what is left is all a
callback costs the fake: its URL checked at create, its task's end, the body rendered, the
delivery stored, the request sent, the answer read and recorded. Runs are padded to the same
length, as in bench/callgrind.py. Results: bench/README.md.

    python bench/callgrind.py --callbacks          # with the request scenarios
    python bench/callback_instructions.py          # alone (about 5 minutes)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench import control
from bench.bodies import EVOLINK_BODY
from bench.callgrind import VALGRIND, total
from bench.http1 import Connection
from bench.receiver import received
from bench.servers import (
    READY_PATH,
    ROOT,
    ServerFailed,
    compile_bytecode,
    cpus,
    fake_command,
    free_port,
    http_probe,
    pinned,
    server_env,
    spawned,
    stop,
    wait_ready,
)
from tests.callbacks.receiver import LoopbackReceiver

N1, N2 = 200, 1200
LIFETIME = 79.0  # fake seconds from create to end at the defaults
FLAGS = ("--clock", "manual", "--allow-callback-host", "127.0.0.1")
# The advance waits for every answer (a receiver answers in microseconds, but the fake under
# valgrind is ~50x slower), so it returns once all are recorded, whatever the machine's speed.
SETTLE = "600"
READY_TIMEOUT = 900.0
ANSWER_TIMEOUT = 1800.0
OUT_DIR = ROOT / "bench" / "results" / "callgrind"


def run_once(
    valgrind: tuple[str, ...], tasks: int, callbacks: bool, cpu: str | None, pad_to: float
) -> dict[str, Any]:
    label = f"callbacks-{'on' if callbacks else 'off'}.n{tasks}"
    prefix = OUT_DIR / label
    for old in OUT_DIR.glob(f"{label}.*"):
        old.unlink()
    port = free_port()
    command = [
        *valgrind,
        f"--callgrind-out-file={prefix}.%p.out",
        f"--log-file={prefix}.%p.valgrind",
        *fake_command(port, FLAGS),
    ]
    log = Path(f"{prefix}.log")
    env = server_env(PYTHONHASHSEED="0", MOCKSERVER_SETTLE_SECONDS=SETTLE)
    with (
        LoopbackReceiver().running() as receiver,
        spawned(pinned(cpu, command), log=log, env=env) as proc,
    ):
        wait_ready(proc, http_probe(port, READY_PATH["fake"], ANSWER_TIMEOUT), READY_TIMEOUT, log)
        started = time.perf_counter()
        body = {**EVOLINK_BODY, "callback_url": receiver.url} if callbacks else EVOLINK_BODY
        control.create_many(port, control.EVOLINK_CREATE, body, tasks)
        with Connection(port, ANSWER_TIMEOUT) as conn:  # slow under valgrind: minutes
            status, answer = conn.request("POST", "/__mock/clock/advance", {"seconds": LIFETIME + 1})
        if status != 200:
            raise RuntimeError(f"{label}: the advance answered {status}: {answer[:300]!r}")
        seconds = time.perf_counter() - started
        got = received(receiver)
        if got != (tasks if callbacks else 0):
            raise RuntimeError(f"{label}: the receiver got {got} callbacks")
        time.sleep(max(0.0, pad_to - seconds))
        if not stop(proc):
            raise ServerFailed(f"did not stop by itself, so callgrind wrote no totals (see {log})")
    outputs = sorted(OUT_DIR.glob(f"{label}.*.out"))
    if not outputs:
        raise ServerFailed(f"callgrind wrote no output (see {log})")
    return {
        "label": label,
        "instructions": sum(total(path) for path in outputs),
        "seconds": max(seconds, pad_to),
    }


def measure(n1: int = N1, n2: int = N2, valgrind: tuple[str, ...] = VALGRIND) -> dict[str, Any]:
    """The four runs on one CPU, the longest first; instructions per delivered callback."""
    cpu = cpus()[0]
    first = run_once(valgrind, n2, True, cpu, 0.0)
    pad = first["seconds"]
    runs = [first, *(run_once(valgrind, n, cb, cpu, pad) for n, cb in ((n1, True), (n2, False), (n1, False)))]
    on = runs[0]["instructions"] - runs[1]["instructions"]
    off = runs[2]["instructions"] - runs[3]["instructions"]
    return {
        "n1": n1,
        "n2": n2,
        "per_callback": round((on - off) / (n2 - n1)),
        "per_task_without_callback": round(off / (n2 - n1)),
        "runs": runs,
    }


def markdown(result: dict[str, Any]) -> str:
    return (
        f"Instructions per delivered callback (manual clock, N1 = {result['n1']}, N2 = {result['n2']}): "
        f"**{result['per_callback']:,}** (a create without a callback, for scale: "
        f"{result['per_task_without_callback']:,})."
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n1", type=int, default=N1)
    parser.add_argument("--n2", type=int, default=N2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "callbacks-callgrind.json")
    args = parser.parse_args()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    compile_bytecode()
    result = measure(args.n1, args.n2)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2))
    print(markdown(result))


if __name__ == "__main__":
    main()
