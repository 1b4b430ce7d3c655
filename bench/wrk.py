"""wrk, the load of the throughput runs: a Lua script for the request, and the requests per
second, latency percentiles and non-2xx answers read back from its report."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

from bench.bodies import KEY
from bench.servers import pinned

THREADS = 1


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int


def script(method: str, body: dict[str, Any] | None) -> str:
    lines = [f'wrk.method = "{method}"', f'wrk.headers["Authorization"] = "Bearer {KEY}"']
    if body is not None:
        lines += [
            'wrk.headers["Content-Type"] = "application/json"',
            f"wrk.body = {json.dumps(json.dumps(body))}",
        ]
    return "\n".join(lines) + "\n"


def run(
    url: str, method: str, body: dict[str, Any] | None, duration: int, connections: int, cpu: str | None
) -> Load:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script(method, body))
    try:
        command = [
            "wrk",
            f"-t{THREADS}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            lua.name,
            url,
        ]
        out = subprocess.run(
            pinned(cpu, command), capture_output=True, text=True, timeout=duration + 60, check=True
        ).stdout
    finally:
        os.unlink(lua.name)
    return Load(
        float(_find(r"Requests/sec:\s+([\d.]+)", out)),
        _latency(out, "50%"),
        _latency(out, "99%"),
        int(_find(r"(\d+) requests in", out)),
        int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)) else 0,
    )


def _find(pattern: str, out: str) -> str:
    match = re.search(pattern, out)
    if match is None:
        raise RuntimeError(f"no {pattern!r} in wrk's report:\n{out}")
    return match.group(1)


def _latency(out: str, percentile: str) -> float:
    match = re.search(rf"{re.escape(percentile)}\s+([\d.]+)(us|ms|s)", out)
    if match is None:
        raise RuntimeError(f"no {percentile} latency in wrk's report:\n{out}")
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
