"""A client polling one path in its own process (so the bench's own work cannot delay it): one
GET at a fixed interval on a keep-alive connection, each poll's wall-clock start, latency and
status written to a JSON file when it is stopped (SIGTERM); and the latency figures of a window.

    python -m bench.polling PORT PATH INTERVAL OUT
"""

from __future__ import annotations

import json
import signal
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.http1 import Connection, encode

Sample = tuple[float, float, int]  # wall-clock start (time.time()), latency in seconds, status


def poll(port: int, path: str, interval: float, out: Path) -> None:
    stopping = False

    def stop(signum: int, frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    samples: list[Sample] = []
    try:
        with Connection(port, 60) as conn:
            request = encode("GET", conn.host, path)
            while not stopping:
                started, clock = time.time(), time.perf_counter()
                status = conn.send(request)[0]
                samples.append((started, time.perf_counter() - clock, status))
                # The interval counts from the poll's start: a slow answer is not followed by a pause.
                time.sleep(max(0.0, interval - (time.perf_counter() - clock)))
    except OSError:  # the server went away (a stop): what was measured until then still counts
        pass
    finally:
        out.write_text(json.dumps(samples))


def read(out: Path) -> list[Sample]:
    return [(start, latency, status) for start, latency, status in json.loads(out.read_text())]


def figures(samples: list[Sample], start: float, end: float) -> dict[str, Any]:
    """Latency (ms) of the polls that started in [start, end): p50, p99, max, and the count."""
    window = sorted(latency * 1000 for begun, latency, _ in samples if start <= begun < end)
    if len(window) < 2:
        return {"polls": len(window)}
    cuts = statistics.quantiles(window, n=100, method="inclusive")
    return {
        "polls": len(window),
        "non_2xx": sum(1 for begun, _, status in samples if start <= begun < end and not 200 <= status < 300),
        "p50_ms": round(cuts[49], 3),
        "p99_ms": round(cuts[98], 3),
        "max_ms": round(window[-1], 3),
    }


if __name__ == "__main__":
    poll(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), Path(sys.argv[4]))
